# The operator's halt commands (issue 6): `relaywatch halt`, `relaywatch
# resume` and `relaywatch status`, run in-process against the shared stack.
# (Included from tests/CMakeLists.txt: paths are relative to tests/.)
relaywatch_test(test_halt_cmds integration integration/test_halt_cmds.c
  testsupport watchdog PkgConfig::HIREDIS PkgConfig::SODIUM PkgConfig::CJSON)
# resume runs a full validate cycle, twice under valgrind's slowdown.
set_tests_properties(test_halt_cmds PROPERTIES TIMEOUT 300)
if(TEST test_halt_cmds_valgrind)
  set_tests_properties(test_halt_cmds_valgrind PROPERTIES TIMEOUT 900)
endif()
