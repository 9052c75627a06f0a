# Unit tests of watchdog/signing_key, watchdog/control_msg and `relaywatch keygen`.
# (Included from tests/CMakeLists.txt: paths are relative to tests/.)
relaywatch_test(test_control unit unit/test_control.c clirun PkgConfig::SODIUM PkgConfig::CJSON)
relaywatch_test(test_outbox unit unit/test_outbox.c rw_control)
# The key ring of base/ and the Redis link with its XINFO reply parsers (against
# a port nothing listens on and an in-process stand-in for Redis).
relaywatch_test(test_keyring unit unit/test_keyring.c rw_base PkgConfig::SODIUM)
relaywatch_test(test_redisconn unit unit/test_redisconn.c rw_base testsupport Threads::Threads)
# The protocol's own tests: strict JSON, control_state, the conformance vectors.
include(${CMAKE_CURRENT_LIST_DIR}/protocol.cmake)
