# Unit tests of invariants/: every check on hand-built snapshots.
# (Included from tests/CMakeLists.txt: paths are relative to tests/.)

# The snapshot-building helpers every invariant test shares.
add_library(inv_fixture STATIC unit/inv_fixture.c)
target_include_directories(inv_fixture PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/unit)
target_link_libraries(inv_fixture PUBLIC invariants chain PkgConfig::CJSON PkgConfig::CMOCKA
                      PRIVATE relaywatch_flags)

relaywatch_test(test_inv_snapshot  unit unit/test_inv_snapshot.c inv_fixture)
relaywatch_test(test_inv_engine    unit unit/test_inv_engine.c inv_fixture)
relaywatch_test(test_inv_supply    unit unit/test_inv_supply.c inv_fixture)
relaywatch_test(test_inv_duplicate unit unit/test_inv_duplicate.c inv_fixture)
relaywatch_test(test_inv_nonce     unit unit/test_inv_nonce.c inv_fixture)
relaywatch_test(test_inv_tier2     unit unit/test_inv_tier2.c inv_fixture)
relaywatch_test(test_inv_tier3     unit unit/test_inv_tier3.c inv_fixture)

# PROOF_VERIFICATION_FAIL against trees built by the real @openzeppelin/merkle-tree
# (the merkle_vectors fixture of tests/CMakeLists.txt), and by chain/merkle.
relaywatch_test(test_inv_proof     unit unit/test_inv_proof.c inv_fixture testsupport)
relaywatch_test_fixture(test_inv_proof merkle_vectors
  "MERKLE_VECTORS=${CMAKE_CURRENT_BINARY_DIR}/merkle-vectors.json")
relaywatch_test(test_inv_pages     unit unit/test_inv_pages.c inv_fixture)
