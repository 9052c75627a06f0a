# Unit tests of the supervisor's own modules: the halt state on disk and the
# finding journal. (Included from tests/CMakeLists.txt: paths are relative to tests/.)
# `relaywatch run` itself is tested live by integration/halt_control.sh.
relaywatch_test(test_halt_state unit unit/test_halt_state.c rw_control PkgConfig::CJSON)
# halt_control tracking HALTs it did not publish (manual ones) and recording
# every RESUME, in-process against the shared stack's Redis and PostgreSQL;
# also sql/migrations/0003_resumes.sql on a fresh database.
relaywatch_test(test_halt_tracking integration integration/test_halt_tracking.c
  testsupport watchdog PkgConfig::HIREDIS PkgConfig::SODIUM PkgConfig::CJSON PkgConfig::LIBPQ)
