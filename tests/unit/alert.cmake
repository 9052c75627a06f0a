# Unit tests of watchdog/alert/: the receivers' payloads byte for byte and
# how their answers are judged. (Included from tests/CMakeLists.txt: paths
# are relative to tests/.)
relaywatch_test(test_receiver unit unit/test_receiver.c rw_alert PkgConfig::CJSON PkgConfig::SODIUM)

# The fuzz target of the alert room compiled in every build, not only with
# RELAYWATCH_FUZZ: it keeps up with receiver.h, and scripts/lint finds its
# compile command.
if(NOT RELAYWATCH_FUZZ)
  add_library(fuzz_alert_compiles OBJECT fuzz/fuzz_retry_after.c)
  target_link_libraries(fuzz_alert_compiles PRIVATE rw_alert relaywatch_flags)
endif()
