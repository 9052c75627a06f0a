# Every third-party library is found with pkg-config, so the build uses the
# versions Debian ships (see scripts/bootstrap for the package names).
find_package(PkgConfig REQUIRED)

pkg_check_modules(LIBPQ      REQUIRED IMPORTED_TARGET libpq)
pkg_check_modules(LIBCURL    REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(SECP256K1  REQUIRED IMPORTED_TARGET libsecp256k1)
pkg_check_modules(CJSON      REQUIRED IMPORTED_TARGET libcjson)
pkg_check_modules(HIREDIS    REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(SODIUM     REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(INIH       REQUIRED IMPORTED_TARGET inih)
pkg_check_modules(LIBEVENT   REQUIRED IMPORTED_TARGET libevent_core)
pkg_check_modules(MICROHTTPD REQUIRED IMPORTED_TARGET libmicrohttpd)
if(RELAYWATCH_TESTS)
  pkg_check_modules(CMOCKA   REQUIRED IMPORTED_TARGET cmocka)
endif()
