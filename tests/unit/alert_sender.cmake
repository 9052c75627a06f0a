# The alert sender: its thread against loopback HTTP receivers
# (support/fake_http), an SMTP stand-in and a redis-server of its own for
# the claims between replicas. (Included from tests/CMakeLists.txt: paths
# are relative to tests/.)
relaywatch_test(test_alert_sender unit unit/test_alert_sender.c rw_alert testsupport
  PkgConfig::CJSON PkgConfig::HIREDIS Threads::Threads)
