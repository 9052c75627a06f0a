# The HTTP endpoints (watchdog/http): the server over real loopback sockets.
# (Included from tests/CMakeLists.txt: paths are relative to tests/.)
relaywatch_test(test_http_server unit unit/test_http_server.c rw_http PkgConfig::LIBCURL)
