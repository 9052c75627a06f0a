# The audit log checked with independent transparency-log tooling: Go's
# golang.org/x/mod/sumdb/tlog and sumdb/note (Debian's golang-go and
# golang-golang-x-mod-dev, which scripts/bootstrap installs).
#
#   tlogcheck     tests/audit/tlogcheck: verifies a log, a checkpoint, an
#                 inclusion or consistency proof, a witness cosignature
#   audit_gogen   tests/audit/gogen: writes logs with Go's code alone (the
#                 fixtures in tests/audit/fixtures come from it)
#
# and the tests (label unit, no stack):
#
#   audit_tlogcheck_go   tlogcheck's Go unit tests (go test)
#   audit_go_fixtures    gogen writes tests/audit/fixtures again, byte for byte
#   audit_independent    relaywatch's log (audit_gen), proofs and consistency
#                        proofs verified by tlogcheck; gogen's fixtures by
#                        relaywatch (tests/integration/audit_independent.sh)
#
# Both import what they share (BLAKE2b, key_ids, note keys, the key
# certificate's and the cosignature's messages) from one package,
# tests/audit/gocommon, import path relaywatch.test/auditcommon.
#
# Go builds in GOPATH mode (GO111MODULE=off, GOPATH=/usr/share/gocode where
# Debian installs golang.org/x/mod): there is no module proxy, and GOPATH
# mode builds a main package outside GOPATH that imports from GOPATH with no
# go.mod. The shared package must be under a GOPATH src directory too: a
# second GOPATH entry in the build tree, tests/audit/gopath, whose
# src/relaywatch.test/auditcommon is a symbolic link (made at configure time)
# to tests/audit/gocommon. GOCACHE is under the build tree; GOFLAGS and the
# user's go env file are ignored so the build does not depend on the machine.
#
# Included from tests/audit/audit.cmake (itself included from
# tests/CMakeLists.txt): CMAKE_CURRENT_SOURCE_DIR is tests/, this file's
# directory is tests/audit.

set(AUDIT_GO_DIR ${CMAKE_CURRENT_LIST_DIR})

find_program(GO_EXECUTABLE go)
set(RELAYWATCH_GOPATH /usr/share/gocode CACHE PATH
    "GOPATH holding golang.org/x/mod (Debian's golang-golang-x-mod-dev)")
if(NOT GO_EXECUTABLE)
  message(FATAL_ERROR "go not found: the audit log's independent verification (tests/audit/tlogcheck) "
                      "needs Go and golang.org/x/mod; run scripts/bootstrap (it installs golang-go and "
                      "golang-golang-x-mod-dev)")
endif()
if(NOT EXISTS ${RELAYWATCH_GOPATH}/src/golang.org/x/mod/sumdb/note/note.go OR
   NOT EXISTS ${RELAYWATCH_GOPATH}/src/golang.org/x/mod/sumdb/tlog/tlog.go)
  message(FATAL_ERROR "golang.org/x/mod/sumdb/note and sumdb/tlog not found under ${RELAYWATCH_GOPATH}: "
                      "run scripts/bootstrap (it installs golang-golang-x-mod-dev), or set "
                      "RELAYWATCH_GOPATH to a GOPATH that holds them")
endif()

set(AUDIT_GO_OUT ${CMAKE_BINARY_DIR}/tests/audit)
set(TLOGCHECK ${AUDIT_GO_OUT}/tlogcheck)
set(AUDIT_GOGEN ${AUDIT_GO_OUT}/gogen)

# The GOPATH entry of the shared package (see above). The link is made anew
# at every configure, so a build tree moved or pointed at another checkout
# follows the sources it is configured from.
set(AUDIT_GO_GOPATH ${AUDIT_GO_OUT}/gopath)
set(AUDIT_GO_COMMON_LINK ${AUDIT_GO_GOPATH}/src/relaywatch.test/auditcommon)
file(MAKE_DIRECTORY ${AUDIT_GO_GOPATH}/src/relaywatch.test)
file(CREATE_LINK ${AUDIT_GO_DIR}/gocommon ${AUDIT_GO_COMMON_LINK} SYMBOLIC)

set(AUDIT_GO_ENV GO111MODULE=off GOPATH=${RELAYWATCH_GOPATH}:${AUDIT_GO_GOPATH}
    GOCACHE=${AUDIT_GO_OUT}/go-cache GOFLAGS= GOENV=off GOTOOLCHAIN=local CGO_ENABLED=0)

file(GLOB AUDIT_GO_COMMON_SOURCES CONFIGURE_DEPENDS ${AUDIT_GO_DIR}/gocommon/*.go)

# audit_go_program(TARGET DIR OUT): the Go main package in tests/audit/DIR
# built into OUT by the target TARGET (in all), again when its sources or
# the shared package's change.
function(audit_go_program target dir out)
  file(GLOB sources CONFIGURE_DEPENDS ${AUDIT_GO_DIR}/${dir}/*.go)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E env ${AUDIT_GO_ENV} ${GO_EXECUTABLE} build -o ${out} .
    WORKING_DIRECTORY ${AUDIT_GO_DIR}/${dir}
    DEPENDS ${sources} ${AUDIT_GO_COMMON_SOURCES}
    COMMENT "Building ${dir} (Go, golang.org/x/mod/sumdb)"
    VERBATIM)
  add_custom_target(${target} ALL DEPENDS ${out})
endfunction()
audit_go_program(tlogcheck tlogcheck ${TLOGCHECK})
audit_go_program(audit_gogen gogen ${AUDIT_GOGEN})

add_test(NAME audit_tlogcheck_go
  COMMAND ${GO_EXECUTABLE} test -count=1 .
  WORKING_DIRECTORY ${AUDIT_GO_DIR}/tlogcheck)
add_test(NAME audit_go_fixtures
  # (fixtures/README.md is not gogen's)
  COMMAND bash -c "set -e; rm -rf \"$1\"; \"$2\" --fixtures \"$1\"; diff -r -x README.md \"$1\" \"$3\""
          audit_go_fixtures ${AUDIT_GO_OUT}/fixtures-again ${AUDIT_GOGEN} ${AUDIT_GO_DIR}/fixtures)
set_tests_properties(audit_tlogcheck_go PROPERTIES LABELS unit TIMEOUT 300 ENVIRONMENT "${AUDIT_GO_ENV}")
set_tests_properties(audit_go_fixtures PROPERTIES LABELS unit TIMEOUT 120)

# relaywatch and audit_gen may be defined after this file is read: the
# test is added once tests/ has been read through (the paths baked in now).
function(audit_go_add_independent_test script tlogcheck)
  if(TARGET audit_gen AND TARGET relaywatch)
    add_test(NAME audit_independent
      COMMAND bash ${script} $<TARGET_FILE:relaywatch> ${tlogcheck} $<TARGET_FILE:audit_gen>)
    set_tests_properties(audit_independent PROPERTIES LABELS unit TIMEOUT 600)
  else()
    message(STATUS "audit_independent not added: no audit_gen or relaywatch target")
  endif()
endfunction()
cmake_language(EVAL CODE "cmake_language(DEFER DIRECTORY [[${CMAKE_CURRENT_SOURCE_DIR}]] CALL
  audit_go_add_independent_test [[${AUDIT_GO_DIR}/../integration/audit_independent.sh]] [[${TLOGCHECK}]])")
