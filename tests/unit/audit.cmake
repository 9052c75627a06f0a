# The audit log's pure pieces (watchdog/audit, rw_audit_core): the RFC 6962
# tree and its proofs against the CT vectors and Go's tlog, and C2SP signed
# notes, checkpoints and cosignatures against Go's note package.
# (Included from tests/CMakeLists.txt: paths are relative to tests/.)
relaywatch_test(test_audit_tree unit unit/test_audit_tree.c rw_audit_core PkgConfig::SODIUM)
relaywatch_test(test_audit_note unit unit/test_audit_note.c rw_audit_core PkgConfig::SODIUM)
include(${CMAKE_CURRENT_LIST_DIR}/audit_witness.cmake)
