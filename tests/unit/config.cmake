# Unit tests of watchdog/config/config.c (and `relaywatch check-config`).
relaywatch_test(test_config unit unit/test_config.c clirun)

# The fuzz targets of watchdog/ parsers compiled in every build, not only
# with RELAYWATCH_FUZZ: they keep up with the headers, and scripts/lint
# finds their compile commands.
if(NOT RELAYWATCH_FUZZ)
  add_library(fuzz_watchdog_compiles OBJECT fuzz/fuzz_config.c fuzz/fuzz_xinfo_groups.c
              fuzz/fuzz_control_msg.c)
  target_link_libraries(fuzz_watchdog_compiles PRIVATE watchdog PkgConfig::SODIUM PkgConfig::CJSON
                      relaywatch_flags)
endif()
