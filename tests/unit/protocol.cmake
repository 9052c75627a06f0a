# The control-stream protocol (docs/PROTOCOL.md): strict JSON, the reader's
# state machine, and the conformance vectors of docs/protocol-vectors/.
# (Included from unit/control.cmake: paths are relative to tests/.)
relaywatch_test(test_json_strict unit unit/test_json_strict.c rw_base)
relaywatch_test(test_b64 unit unit/test_b64.c rw_base)
relaywatch_test(test_control_state unit unit/test_control_state.c rw_control PkgConfig::SODIUM)

# The conformance vectors: the generator (build/tests/vectors/, the path
# PROTOCOL.md section 12 names), a check that the checked-in file is its
# output byte for byte, and the vectors run through control_state.
add_executable(gen_protocol_vectors vectors/gen_protocol_vectors.c)
target_link_libraries(gen_protocol_vectors PRIVATE rw_control rw_audit_core PkgConfig::SODIUM PkgConfig::CJSON
                      relaywatch_flags)
set_target_properties(gen_protocol_vectors PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/vectors)
set(PROTOCOL_VECTORS ${PROJECT_SOURCE_DIR}/docs/protocol-vectors/vectors.json)
add_test(NAME protocol_vectors_current
  COMMAND bash -c "\"$0\" \"$1\" && cmp -s \"$1\" \"$2\" || { echo \"$2 is not what the generator writes now: run $0 docs/protocol-vectors/vectors.json and commit\" >&2; exit 1; }"
          $<TARGET_FILE:gen_protocol_vectors>
          ${CMAKE_CURRENT_BINARY_DIR}/vectors/vectors.json
          ${PROTOCOL_VECTORS})
set_tests_properties(protocol_vectors_current PROPERTIES LABELS unit)
relaywatch_test(test_protocol_vectors unit unit/test_protocol_vectors.c rw_control
  PkgConfig::SODIUM PkgConfig::CJSON)
target_compile_definitions(test_protocol_vectors PRIVATE
  PROTOCOL_VECTORS="${PROTOCOL_VECTORS}")
