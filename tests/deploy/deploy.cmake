# The operator files under deploy/, each checked by its real tool
# (tests/deploy/deploy_check.sh). Label "deploy"; a missing tool skips its
# test (exit 77).
set(DEPLOY_CHECK ${CMAKE_CURRENT_SOURCE_DIR}/deploy/deploy_check.sh)
set(DEPLOY_ENV "RELAYWATCH_SOURCE_DIR=${PROJECT_SOURCE_DIR}")

add_test(NAME deploy_prometheus_rules COMMAND bash ${DEPLOY_CHECK} prometheus_rules)
add_test(NAME deploy_alertmanager COMMAND bash ${DEPLOY_CHECK} alertmanager)
# Every metric the dashboard and the rules use must be in relaywatch's
# exposition, as metrics_sample prints it; without that program only the
# dashboard's shape is checked.
if(TARGET metrics_sample)
  add_test(NAME deploy_grafana
    COMMAND bash -c "\"$1\" > \"$2\" && bash \"$3\" grafana \"$2\""
            deploy_grafana $<TARGET_FILE:metrics_sample>
            ${CMAKE_CURRENT_BINARY_DIR}/deploy_exposition.txt ${DEPLOY_CHECK})
else()
  add_test(NAME deploy_grafana COMMAND bash ${DEPLOY_CHECK} grafana)
endif()
# systemd-analyze verify wants ExecStart's binary: the one just built.
if(TARGET relaywatch)
  add_test(NAME deploy_systemd COMMAND bash ${DEPLOY_CHECK} systemd $<TARGET_FILE:relaywatch>)
else()
  add_test(NAME deploy_systemd COMMAND bash ${DEPLOY_CHECK} systemd /bin/true)
endif()
add_test(NAME deploy_kubernetes COMMAND bash ${DEPLOY_CHECK} kubernetes)

set_tests_properties(deploy_prometheus_rules deploy_alertmanager deploy_grafana deploy_systemd deploy_kubernetes
  PROPERTIES LABELS "unit;deploy" TIMEOUT 120 SKIP_RETURN_CODE 77 ENVIRONMENT "${DEPLOY_ENV}")
