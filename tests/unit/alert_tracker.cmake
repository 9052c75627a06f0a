# The alert tracker: its sender and its clocks are replaced at link time, so
# what it hands over and when is tested without threads or sleeping.
# (Included from tests/CMakeLists.txt: paths are relative to tests/.)
relaywatch_test(test_alert_tracker unit unit/test_alert_tracker.c rw_alert PkgConfig::CJSON)
target_link_options(test_alert_tracker PRIVATE
  -Wl,--wrap=rwclock_mono_ms,--wrap=rwclock_wall_ms
  -Wl,--wrap=alert_sender_submit,--wrap=alert_sender_take_failures)
