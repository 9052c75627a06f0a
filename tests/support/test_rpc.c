#include "test_rpc.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rwerr.h"

#define TEST_RPC_MAX_REPLY ((size_t)1024 * 1024)

struct reply_buf {
        char *data;
        size_t len;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        struct reply_buf *buf = userdata;
        size_t n = size * nmemb;
        char *grown;

        if (buf->len + n > TEST_RPC_MAX_REPLY)
                return 0;
        grown = realloc(buf->data, buf->len + n + 1);
        if (grown == NULL)
                return 0;
        buf->data = grown;
        memcpy(buf->data + buf->len, ptr, n);
        buf->len += n;
        buf->data[buf->len] = '\0';
        return n;
}

static char *post_json(const char *url, const char *body, struct rwerr *err)
{
        struct reply_buf buf = {NULL, 0};
        struct curl_slist *headers = NULL;
        CURL *curl = curl_easy_init();
        CURLcode cc;
        long status = 0;

        if (curl == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "curl_easy_init failed");
                return NULL;
        }
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buf);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        cc = curl_easy_perform(curl);
        if (cc == CURLE_OK)
                curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);
        if (cc != CURLE_OK || status != 200 || buf.data == NULL) {
                rwerr_set(err, RW_ERR_IO, "POST %s: %s (HTTP %ld)", url,
                          cc != CURLE_OK ? curl_easy_strerror(cc) : "empty or non-200 reply",
                          status);
                free(buf.data);
                return NULL;
        }
        return buf.data;
}

char *test_rpc_call(const char *url, const char *method, const char *params_json, struct rwerr *err)
{
        size_t cap = strlen(method) + strlen(params_json) + 64;
        char *body = malloc(cap);
        char *text, *result = NULL;
        cJSON *reply, *res, *error;

        if (body == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory", method);
                return NULL;
        }
        snprintf(body, cap, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}",
                 method, params_json);
        text = post_json(url, body, err);
        free(body);
        if (text == NULL)
                return NULL;
        reply = cJSON_Parse(text);
        free(text);
        if (reply == NULL) {
                rwerr_set(err, RW_ERR_INVALID, "%s: reply is not JSON", method);
                return NULL;
        }
        error = cJSON_GetObjectItemCaseSensitive(reply, "error");
        res = cJSON_GetObjectItemCaseSensitive(reply, "result");
        if (error != NULL) {
                cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
                cJSON *msg = cJSON_GetObjectItemCaseSensitive(error, "message");

                rwerr_set(err, RW_ERR_IO, "%s: JSON-RPC error %d: %s", method,
                          cJSON_IsNumber(code) ? code->valueint : 0,
                          cJSON_IsString(msg) ? msg->valuestring : "(no message)");
        } else if (res == NULL) {
                rwerr_set(err, RW_ERR_INVALID, "%s: reply has neither result nor error", method);
        } else if (cJSON_IsString(res)) {
                result = strdup(res->valuestring);
        } else {
                result = cJSON_PrintUnformatted(res);
        }
        if (error == NULL && res != NULL && result == NULL)
                rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory", method);
        cJSON_Delete(reply);
        return result;
}

char *test_rpc_eth_call(const char *url, const char *to, const char *data, const char *block,
                        struct rwerr *err)
{
        char params[1024], tag[32];
        int n;

        if (block[0] >= '0' && block[0] <= '9')
                snprintf(tag, sizeof tag, "0x%llx", strtoull(block, NULL, 10));
        else
                snprintf(tag, sizeof tag, "%s", block);
        n = snprintf(params, sizeof params, "[{\"to\":\"%s\",\"data\":\"%s\"},\"%s\"]", to, data,
                     tag);
        if (n < 0 || (size_t)n >= sizeof params) {
                rwerr_set(err, RW_ERR_RANGE, "eth_call: calldata too large");
                return NULL;
        }
        return test_rpc_call(url, "eth_call", params, err);
}
