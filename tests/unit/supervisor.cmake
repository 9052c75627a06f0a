# Unit tests of the supervisor's own modules: the halt state on disk and the
# finding journal. (Included from tests/CMakeLists.txt: paths are relative to tests/.)
# `relaywatch run` itself is tested live by integration/halt_control.sh.
relaywatch_test(test_halt_state unit unit/test_halt_state.c rw_control PkgConfig::CJSON)
