# Tests of the supervisor's operations plumbing (issue 6): systemd notify,
# JSON logs, the halt and finding records in PostgreSQL, `relaywatch control tail`.
# (Included from tests/CMakeLists.txt: paths are relative to tests/.)
relaywatch_test(test_sdnotify unit unit/test_sdnotify.c rw_daemon)
relaywatch_test(test_jsonlog unit unit/test_jsonlog.c rw_base PkgConfig::CJSON Threads::Threads)
relaywatch_test(test_state_records integration integration/test_state_records.c testsupport watchdog
  PkgConfig::HIREDIS PkgConfig::SODIUM)
# `relaywatch control tail` on the stack's Redis (cmd_control called in-process: cli.c
# registers the command).
relaywatch_test(test_control_tail integration integration/test_control_tail.c
  watchdog testsupport PkgConfig::HIREDIS PkgConfig::SODIUM PkgConfig::CJSON Threads::Threads)
