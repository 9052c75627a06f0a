# The audit log's witness (watchdog/audit/audit_witness): its decision on
# what a primary publishes, on logs written by the real writer, without
# Redis. (Included from tests/unit/audit.cmake: paths are relative to tests/.)
relaywatch_test(test_audit_witness unit unit/test_audit_witness.c rw_audit PkgConfig::SODIUM
                PkgConfig::CJSON)
