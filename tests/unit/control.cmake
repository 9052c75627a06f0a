# Unit tests of watchdog/signing_key, watchdog/control_msg and `relaywatch keygen`.
# (Included from tests/CMakeLists.txt: paths are relative to tests/.)
relaywatch_test(test_control unit unit/test_control.c clirun PkgConfig::SODIUM PkgConfig::CJSON)
relaywatch_test(test_outbox unit unit/test_outbox.c rw_control)
