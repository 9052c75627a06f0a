# Compiler flags shared by every target of the project.
add_library(relaywatch_flags INTERFACE)
target_compile_options(relaywatch_flags INTERFACE
  -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
  -Wpointer-arith -Wcast-qual -Wvla -Wundef
  $<$<BOOL:${RELAYWATCH_WERROR}>:-Werror>)
target_compile_definitions(relaywatch_flags INTERFACE _POSIX_C_SOURCE=200809L)

if(RELAYWATCH_SANITIZE)
  target_compile_options(relaywatch_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(relaywatch_flags INTERFACE -fsanitize=address,undefined)
endif()

if(RELAYWATCH_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "RELAYWATCH_FUZZ needs clang: configure with -DCMAKE_C_COMPILER=clang")
  endif()
  # Instrument the libraries for coverage; the fuzz executables add the
  # libFuzzer main themselves.
  target_compile_options(relaywatch_flags INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  target_link_options(relaywatch_flags INTERFACE -fsanitize=address,undefined)
endif()
