# The audit log's own test tools and tests that need no stack: the log
# generator (a real writer on a simulated clock), the tampering suite, and
# the check with independent tooling (Go's sumdb note and tlog).
# (Included from tests/CMakeLists.txt: paths are relative to tests/.)
add_executable(audit_gen audit/audit_gen.c)
target_link_libraries(audit_gen PRIVATE rw_audit PkgConfig::SODIUM PkgConfig::CJSON
                      relaywatch_flags)

add_test(NAME audit_tamper
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/audit_tamper.sh
          $<TARGET_FILE:relaywatch> $<TARGET_FILE:audit_gen>)
set_tests_properties(audit_tamper PROPERTIES LABELS unit TIMEOUT 300)

include(${CMAKE_CURRENT_LIST_DIR}/audit_go.cmake OPTIONAL)

# The writer's leaf index against the tree recomputed from the files.
relaywatch_test(test_audit_log unit unit/test_audit_log.c rw_audit PkgConfig::SODIUM
                PkgConfig::CJSON)

# The witness end to end: a redis-server of its own, a primary played by the
# script (audit_gen publish, audit consistency), `relaywatch audit witness`.
add_test(NAME audit_witness
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/audit_witness.sh
          $<TARGET_FILE:relaywatch> $<TARGET_FILE:audit_gen>)
set_tests_properties(audit_witness PROPERTIES LABELS unit TIMEOUT 300 SKIP_RETURN_CODE 77)
