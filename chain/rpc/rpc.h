/*
 * rpc: a JSON-RPC 2.0 client for one Ethereum endpoint, over libcurl.
 *
 * Requests go out in batches: everything a cycle needs from one chain is
 * added to a `struct rpc_batch` and sent in one HTTP round trip. Replies are
 * matched to requests by id (a provider may answer in any order), and each
 * request ends with either a result or its own JSON-RPC error. The client
 * keeps one libcurl handle, so the connection stays open between batches.
 *
 * Safety: replies are capped in size, TLS is always verified (an extra CA
 * file may be given), only http and https URLs are accepted, and the URL is
 * never printed: API keys live in URLs. Messages name the endpoint by its
 * configured name or by its redacted URL ("https://host/<redacted>").
 *
 * An endpoint is trusted only once rpc_client_verify_chain (or
 * rpc_chain_id_check on the reply to an eth_chainId batch) has seen it
 * answer eth_chainId with the configured chain id.
 *
 * rpc_batch_send waits for its one exchange. A `struct rpc_multi` instead
 * runs exchanges of several clients side by side on the caller's thread
 * (libcurl's multi interface), each with its own timeout: the endpoint pool
 * uses it to hedge a slow endpoint with another one and to cancel the loser.
 *
 * Threads: a client and its batches belong to one thread at a time;
 * different clients may be used from different threads at once (create
 * the first client before starting threads: it initialises libcurl). A
 * multi set and the clients in it belong to one thread at a time.
 */
#ifndef RELAYWATCH_RPC_H
#define RELAYWATCH_RPC_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct rwerr;
struct rpc_client;
struct rpc_batch;
struct rpc_multi;

#define RPC_DEFAULT_CONNECT_TIMEOUT_MS 3000L
#define RPC_DEFAULT_TIMEOUT_MS 10000L
#define RPC_DEFAULT_MAX_REPLY_BYTES ((size_t)16 << 20)
#define RPC_BATCH_MAX 2000 /* requests in one batch */
#define RPC_NAME_MAX 128

struct rpc_config {
        const char *url;         /* http:// or https://; may carry an API key */
        const char *name;        /* how messages call it ("source[0]"); NULL: redacted URL */
        const char *ca_file;     /* extra CA bundle for TLS, or NULL for the system's */
        long connect_timeout_ms; /* 0: RPC_DEFAULT_CONNECT_TIMEOUT_MS */
        long timeout_ms;         /* the whole exchange; 0: RPC_DEFAULT_TIMEOUT_MS */
        size_t max_reply_bytes;  /* 0: RPC_DEFAULT_MAX_REPLY_BYTES */
};

/* A JSON-RPC error object a provider returned for one request. */
struct rpc_error {
        long code;
        char message[192];
};

/* A block to read state at: a number, or one of the tags below. */
struct rpc_block {
        const char *tag; /* "latest", "finalized", "safe", "earliest", "pending", or NULL */
        uint64_t number; /* used when tag is NULL */
};

/* Counters for metrics; read with rpc_client_stats. */
struct rpc_client_stats {
        uint64_t exchanges;        /* HTTP round trips attempted */
        uint64_t failed_exchanges; /* transport, HTTP or reply-format failures */
        uint64_t requests;         /* JSON-RPC requests carried */
        uint64_t last_duration_ms; /* of the latest round trip */
};

/*
 * Writes a printable form of `url` without credentials: scheme, host and
 * port, and "/<redacted>" when the URL has a path, query or user info (where
 * providers put API keys). Returns 0, or RW_ERR_INVALID for an unparsable
 * URL (then `out` holds "(invalid URL)").
 */
int rpc_url_redact(const char *url, char *out, size_t cap);

/*
 * A client for one endpoint. Copies what it needs from `cfg`. Returns NULL
 * with `err` filled for a missing or non-http(s) URL or a libcurl failure.
 * Free with rpc_client_free (accepts NULL).
 */
struct rpc_client *rpc_client_new(const struct rpc_config *cfg, struct rwerr *err);
void rpc_client_free(struct rpc_client *c);

/* The endpoint's printable name, owned by the client. */
const char *rpc_client_name(const struct rpc_client *c);

void rpc_client_stats(const struct rpc_client *c, struct rpc_client_stats *out);

/* The whole-exchange timeout the client was configured with, in ms. */
long rpc_client_timeout_ms(const struct rpc_client *c);

/*
 * Asks eth_chainId and compares it with `expected`. Returns 0, or
 * RW_ERR_REFUSED when the endpoint serves another chain (the message names
 * both ids), or the error of the exchange.
 */
int rpc_client_verify_chain(struct rpc_client *c, uint64_t expected, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * The second half of rpc_client_verify_chain, for a batch whose request 0
 * is eth_chainId and that `c` has just answered: 0 when the id is
 * `expected`, RW_ERR_REFUSED when it is another (the message names both),
 * or an error naming the endpoint when the reply holds no chain id.
 */
int rpc_chain_id_check(const struct rpc_client *c, const struct rpc_batch *b, uint64_t expected,
                       struct rwerr *err) __attribute__((warn_unused_result));

/* An empty batch; NULL when out of memory. Free with rpc_batch_free (accepts NULL). */
struct rpc_batch *rpc_batch_new(void);
void rpc_batch_free(struct rpc_batch *b);

/*
 * Adds a request. Takes ownership of `params` (a JSON array, or NULL for
 * []) whatever the outcome. Returns the request's index (its results are
 * read back by it), or RW_ERR_RANGE past RPC_BATCH_MAX, RW_ERR_NOMEM,
 * RW_ERR_INVALID for params that are not an array. `method` is copied.
 */
int rpc_batch_add(struct rpc_batch *b, const char *method, struct cJSON *params, struct rwerr *err);

size_t rpc_batch_count(const struct rpc_batch *b);

/* The method of request `i` (for messages). */
const char *rpc_batch_method(const struct rpc_batch *b, size_t i);

/*
 * Sends every request in one HTTP exchange and matches the replies. Returns
 * 0 when every request got a reply (a result or its own error object), or:
 * RW_ERR_TIMEOUT, RW_ERR_IO (connection, HTTP status), RW_ERR_PROTOCOL (a
 * reply that is not valid JSON-RPC, too large, truncated, with a request
 * unanswered), RW_ERR_REMOTE (the provider rejected the whole batch). After
 * a failure the batch holds no results and may be sent again, elsewhere.
 */
int rpc_batch_send(struct rpc_client *c, struct rpc_batch *b, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * A set of exchanges in flight at once. NULL with `err` filled when libcurl
 * cannot make one. The set does not own the clients put in it; the
 * connections it opens are kept and reused until rpc_multi_free, which
 * first cancels whatever is still in flight (accepts NULL).
 */
struct rpc_multi *rpc_multi_new(struct rwerr *err);
void rpc_multi_free(struct rpc_multi *m);

/*
 * Starts sending `b` through `c` and returns at once: 0, or RW_ERR_INVALID
 * (an empty batch, or `c` already busy with an exchange), RW_ERR_NOMEM,
 * RW_ERR_IO (libcurl refused the transfer). The exchange has the client's
 * timeouts and reply cap, as with rpc_batch_send. `b` must stay alive and
 * unchanged until the exchange finishes or is cancelled. Several clients
 * may carry the same batch at once: each reply read (rpc_multi_wait) first
 * clears the batch's results, so the caller keeps the first good one by
 * cancelling the other exchanges of `b` before it waits again.
 */
int rpc_multi_start(struct rpc_multi *m, struct rpc_client *c, struct rpc_batch *b,
                    struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Lets the exchanges in `m` progress for at most `timeout_ms` (0: only what
 * is ready now), and returns as soon as one has finished: *done is its
 * client and *rc its outcome, as rpc_batch_send would have returned it
 * (message in `err`; on success the results are in its batch). *done is
 * NULL when none finished in time. Returns 0, or RW_ERR_IO (RW_ERR_NOMEM when
 * out of memory) when libcurl itself fails (nothing in `m` can progress;
 * cancel it all).
 */
int rpc_multi_wait(struct rpc_multi *m, long timeout_ms, struct rpc_client **done, int *rc,
                   struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Stops `c`'s exchange in `m`, if it has one, and closes its connection
 * (a reply that arrives later cannot be mistaken for the next one). The
 * exchange counts as a failed one in the client's stats; its batch is
 * left as it was. Freeing a busy client cancels its exchange too.
 */
void rpc_multi_cancel(struct rpc_multi *m, struct rpc_client *c);

/*
 * Makes an rpc_multi_wait in progress on `m` return at once (with nothing
 * done). The one function here that may be called from any thread, while
 * another thread waits on `m`.
 */
void rpc_multi_wakeup(struct rpc_multi *m);

/* Whether `c` has an exchange in flight in a multi set. */
int rpc_client_busy(const struct rpc_client *c);

/*
 * Matches a reply body to the batch's requests, as rpc_batch_send does after
 * the HTTP exchange. Exposed for the tests and the fuzz target.
 */
int rpc_batch_parse_reply(struct rpc_batch *b, const char *body, size_t len, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * After a successful send: the result of request `i` (owned by the batch,
 * valid until the next send or free), or NULL when the provider answered
 * that request with an error, which rpc_batch_error then returns.
 */
const struct cJSON *rpc_batch_result(const struct rpc_batch *b, size_t i);
const struct rpc_error *rpc_batch_error(const struct rpc_batch *b, size_t i);

/*
 * The result of request `i` as a 0x-hex string (a QUANTITY or DATA), or an
 * error naming the request: its JSON-RPC error, a missing or non-string
 * result. `*hex` is owned by the batch.
 */
int rpc_batch_hex(const struct rpc_batch *b, size_t i, const char **hex, struct rwerr *err)
        __attribute__((warn_unused_result));

/* The result of request `i` as a QUANTITY that fits in 64 bits (block numbers, nonces). */
int rpc_batch_u64(const struct rpc_batch *b, size_t i, uint64_t *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/* Parses a JSON-RPC QUANTITY ("0x0", "0x1a": no leading zeros) into 64 bits. */
int rpc_quantity_u64(const char *s, uint64_t *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Parameter builders; each returns a new JSON array the caller passes to
 * rpc_batch_add (which takes it), or NULL when out of memory or when the
 * block tag is unknown. Addresses and data are 0x-hex text.
 *   [block]                            eth_getBlockByNumber adds its own flag
 *   [{"to":to,"data":data}, block]     eth_call
 *   [address, block]                   eth_getBalance, eth_getTransactionCount, eth_getCode
 *   [{"address":a,"topics":[t0],"fromBlock":f,"toBlock":t}]  eth_getLogs (topic0 may be NULL)
 */
struct cJSON *rpc_params_eth_call(const char *to, const char *data, const struct rpc_block *block);
struct cJSON *rpc_params_address_at(const char *address, const struct rpc_block *block);
struct cJSON *rpc_params_get_logs(const char *address, const char *topic0, uint64_t from_block,
                                  uint64_t to_block);

#endif
