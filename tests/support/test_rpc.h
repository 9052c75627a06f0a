/*
 * test_rpc: a minimal JSON-RPC 2.0 client for tests that check the local
 * stack from the outside (one call per request, no batching, no failover).
 * The product's client with batching, pinning and failover lives in chain/.
 */
#ifndef RELAYWATCH_TEST_RPC_H
#define RELAYWATCH_TEST_RPC_H

struct rwerr;

/*
 * POSTs {"jsonrpc":"2.0","id":1,"method":METHOD,"params":PARAMS_JSON} to
 * `url` and returns the "result": the string itself when it is a JSON string,
 * otherwise its compact JSON text. Caller frees with free(). NULL with `err`
 * filled (HTTP failure, JSON-RPC error with its code and message, or a reply
 * without a result).
 */
char *test_rpc_call(const char *url, const char *method, const char *params_json,
                    struct rwerr *err);

/*
 * eth_call of `data` (0x-hex calldata) on contract `to` at `block` (a
 * decimal block number, as stack.env writes them, or a tag such as
 * "latest"); returns the 0x-hex return data. Same ownership as test_rpc_call.
 */
char *test_rpc_eth_call(const char *url, const char *to, const char *data, const char *block,
                        struct rwerr *err);

#endif
