/*
 * receiver_webhook: any JSON receiver, the body signed (receiver.h).
 *
 *   POST the URL
 *   Content-Type: application/json
 *   X-Relaywatch-Timestamp: UNIX_SECONDS
 *   X-Relaywatch-Signature: v1=HEX(HMAC-SHA256(secret, UNIX_SECONDS "." BODY))
 *
 *   the alert as alert_to_json gives it, unformatted, with "source" added
 *
 * The timestamp is the time of sending, so a receiver can refuse a replay
 * (the stand-in in tests/support allows 300 s). Any 2xx is delivered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "receiver_impl.h"

void rcv_webhook_signature(const char *key, size_t key_len, const char *timestamp, const char *body,
                           size_t body_len, char out[65])
{
        crypto_auth_hmacsha256_state st;
        unsigned char mac[crypto_auth_hmacsha256_BYTES];

        /* the _init form takes a key of any length (HMAC hashes a long one first) */
        (void)crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, key_len);
        (void)crypto_auth_hmacsha256_update(&st, (const unsigned char *)timestamp,
                                            strlen(timestamp));
        (void)crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
        (void)crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
        (void)crypto_auth_hmacsha256_final(&st, mac);
        (void)sodium_bin2hex(out, 65, mac, sizeof mac);
        sodium_memzero(&st, sizeof st);
}

static int add_signature(const struct config_alert_route *route, int64_t now_ms,
                         struct receiver_request *out, struct rwerr *err)
{
        char ts[24], sig[65], line[128];
        int rc;

        (void)snprintf(ts, sizeof ts, "%lld", (long long)(now_ms / 1000));
        rcv_webhook_signature(route->secret, strlen(route->secret), ts, out->body, out->body_len,
                              sig);
        (void)snprintf(line, sizeof line, "X-Relaywatch-Timestamp: %s", ts);
        if ((rc = rcv_add_header(route, line, out, err)) != RW_OK)
                return rc;
        (void)snprintf(line, sizeof line, "X-Relaywatch-Signature: v1=%s", sig);
        return rcv_add_header(route, line, out, err);
}

int rcv_webhook_build(const struct config *cfg, const struct config_alert_route *route,
                      const struct alert *a, int64_t now_ms, struct receiver_request *out,
                      struct rwerr *err)
{
        cJSON *root;
        int rc;

        if (route->url == NULL || route->url[0] == '\0')
                return rcv_fail(err, RW_ERR_INVALID, route, "url is not set");
        if (route->secret == NULL || route->secret[0] == '\0')
                return rcv_fail(err, RW_ERR_INVALID, route, "secret (the HMAC key) is not set");
        if (now_ms < 0)
                return rcv_fail(err, RW_ERR_RANGE, route, "the time of sending is before 1970");
        root = alert_to_json(a);
        if (root == NULL || rcv_add_line(root, "source", rcv_source(cfg)) == NULL) {
                cJSON_Delete(root);
                return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for the body");
        }
        if ((rc = rcv_json_body(route, root, out, err)) != RW_OK ||
            (rc = rcv_set_url(route, route->url, "", out, err)) != RW_OK ||
            (rc = rcv_json_headers(route, out, err)) != RW_OK)
                return rc;
        return add_signature(route, now_ms, out, err);
}

enum receiver_outcome rcv_webhook_judge(const struct config_alert_route *route, long status,
                                        const char *body, size_t len, char *why, size_t cap)
{
        if (status >= 200 && status <= 299)
                return rcv_why(RECEIVER_DELIVERED, route, why, cap, "HTTP %ld", status);
        return rcv_judge_http(route, status, body, len, why, cap);
}
