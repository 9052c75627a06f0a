# Unit tests of watchdog/config.c (and `relaywatch check-config`).
relaywatch_test(test_config unit unit/test_config.c watchdog)

# The fuzz target (tests/fuzz/fuzz_config.c) compiled in every build, not
# only with RELAYWATCH_FUZZ: it keeps up with config.h, and scripts/lint
# finds its compile command.
if(NOT RELAYWATCH_FUZZ)
  add_library(fuzz_config_compiles OBJECT fuzz/fuzz_config.c)
  target_link_libraries(fuzz_config_compiles PRIVATE watchdog relaywatch_flags)
endif()
