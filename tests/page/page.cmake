# The on-call page (watchdog/http/oncall_page.html): every fixture in
# tests/page/fixtures/ substituted into the page as the HTTP server does,
# loaded through file:// in headless Chromium, its DOM checked against the
# page's contract (tests/page/page_check.sh), and the refresh checked
# through a stand-in server (serve.mjs). The screenshots stay in
# ${CMAKE_BINARY_DIR}/oncall_page/NAME/oncall.png and oncall-phone.png.
# Needs Chromium and node (scripts/bootstrap installs both). No C code runs
# here, so only the plain build runs it, not the ASan+UBSan one.
find_program(RELAYWATCH_CHROMIUM NAMES chromium chromium-browser)
find_program(RELAYWATCH_NODE NAMES node nodejs)
if(RELAYWATCH_SANITIZE OR RELAYWATCH_FUZZ)
  # the sanitizer and fuzz builds check C code only
elseif(RELAYWATCH_CHROMIUM AND RELAYWATCH_NODE)
  add_test(NAME oncall_page_fixtures
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/run_fixtures.sh ${PROJECT_SOURCE_DIR}
            ${CMAKE_BINARY_DIR}/oncall_page)
  set_tests_properties(oncall_page_fixtures PROPERTIES LABELS unit TIMEOUT 300
    ENVIRONMENT "CHROMIUM=${RELAYWATCH_CHROMIUM}")
else()
  message(WARNING "chromium or node not found: the oncall_page_fixtures test is skipped (run scripts/bootstrap)")
endif()
