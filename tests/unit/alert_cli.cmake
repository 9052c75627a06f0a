# Unit tests of watchdog/alert/silence and alert_history: the silences file,
# the history and the report made from it. (Included from
# tests/CMakeLists.txt: paths are relative to tests/.) The commands that use
# them (`relaywatch silence`, `report`, `alert test`) are tested in test_cli.
relaywatch_test(test_silence unit unit/test_silence.c rw_alert PkgConfig::CJSON)
relaywatch_test(test_alert_history unit unit/test_alert_history.c rw_alert PkgConfig::CJSON)

# The fuzz target of the silence file and the history lines compiled in every
# build, not only with RELAYWATCH_FUZZ: it keeps up with the headers, and
# scripts/lint finds its compile command.
if(NOT RELAYWATCH_FUZZ)
  add_library(fuzz_silence_compiles OBJECT fuzz/fuzz_silence.c)
  target_link_libraries(fuzz_silence_compiles PRIVATE rw_alert PkgConfig::CJSON relaywatch_flags)
endif()
