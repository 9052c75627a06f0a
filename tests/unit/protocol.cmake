# The control-stream protocol (docs/PROTOCOL.md): strict JSON, the reader's
# state machine, and the conformance vectors of docs/protocol-vectors/.
# (Included from unit/control.cmake: paths are relative to tests/.)
relaywatch_test(test_json_strict unit unit/test_json_strict.c rw_base)
relaywatch_test(test_control_state unit unit/test_control_state.c rw_control PkgConfig::SODIUM)
