# Unit tests of the supervisor's own modules: the halt state on disk and the
# finding journal. (Included from tests/CMakeLists.txt: paths are relative to tests/.)
# `relaywatch run` itself is tested live by integration/halt_control.sh.
relaywatch_test(test_halt_state unit unit/test_halt_state.c rw_control PkgConfig::CJSON)
# halt_control tracking HALTs it did not publish (manual ones) and recording
# every RESUME, in-process against the shared stack's Redis and PostgreSQL;
# also sql/migrations/0003_resumes.sql on a fresh database.
relaywatch_test(test_halt_tracking integration integration/test_halt_tracking.c
  testsupport watchdog PkgConfig::HIREDIS PkgConfig::SODIUM PkgConfig::CJSON PkgConfig::LIBPQ)

# The incremental cursors persisted across restarts and the known-anchors
# index (a root anchored again caught by the next incremental cycle), on a
# stack of its own (the re-anchoring cannot be undone).
add_test(NAME cursors
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/cursors.sh
          ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/cursors)
set_tests_properties(cursors PROPERTIES LABELS integration TIMEOUT 600
  ENVIRONMENT "RELAYWATCH_BIN=$<TARGET_FILE:relaywatch>;RELAYER_SIM_BIN=$<TARGET_FILE:relayer_sim>")

# The history read in pages at the same heights: every batch read, a broken
# proof on a later page and a root anchored again pages apart caught, on a
# stack of its own (the re-anchoring cannot be undone).
add_test(NAME paged_history
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/paged_history.sh
          ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/paged_history)
set_tests_properties(paged_history PROPERTIES LABELS integration TIMEOUT 600
  ENVIRONMENT "RELAYWATCH_BIN=$<TARGET_FILE:relaywatch>;RELAYER_SIM_BIN=$<TARGET_FILE:relayer_sim>")
