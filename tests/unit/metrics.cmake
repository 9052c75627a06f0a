# Unit tests of watchdog/metrics/: the exposition format and the render, line
# by line, and the same figures in status.json (watchdog/act/status_file); and metrics_sample, a full exposition of a realistic state, checked
# by the real Prometheus linter (`promtool check metrics` prints every problem;
# any output fails). (Included from tests/CMakeLists.txt: paths are relative
# to tests/.)
relaywatch_test(test_metrics unit unit/test_metrics.c rw_metrics rw_act inv_fixture
                PkgConfig::CJSON)

add_executable(metrics_sample unit/metrics_sample.c)
target_link_libraries(metrics_sample PRIVATE rw_metrics invariants chain PkgConfig::CJSON
                      relaywatch_flags)

find_program(PROMTOOL promtool)
if(PROMTOOL)
  add_test(NAME metrics_promtool
           COMMAND sh -c "out=$($<TARGET_FILE:metrics_sample> | ${PROMTOOL} check metrics 2>&1); st=$?; printf '%s' \"$out\"; [ $st -eq 0 ] && [ -z \"$out\" ]")
  set_tests_properties(metrics_promtool PROPERTIES LABELS unit TIMEOUT 60)
else()
  message(WARNING "promtool not found (Debian: prometheus): metrics_promtool is skipped")
endif()
