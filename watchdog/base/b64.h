/*
 * b64: strict base64, the one way relaywatch reads it (keys, signatures,
 * hashes): RFC 4648 section 4, the standard alphabet, padded with '=',
 * nothing else in the text (no whitespace, no line breaks), and canonical
 * (the unused bits of the last character are zero), so one value has one
 * text.
 *
 * libsodium's decoder is used for the bytes, but the alphabet is checked
 * first: libsodium 1.0.18 takes bytes above 0x7f for base64 characters.
 */
#ifndef RELAYWATCH_B64_H
#define RELAYWATCH_B64_H

#include <stddef.h>

/*
 * Decodes s[0..len) into out[0..cap): 0 with *out_len the byte count, or -1
 * when the text is not strict base64 or decodes to more than cap bytes.
 */
int b64_decode(const char *s, size_t len, unsigned char *out, size_t cap, size_t *out_len);

/* b64_decode of a NUL-terminated string that must decode to exactly `want` bytes: 0 or -1. */
int b64_decode_exact(const char *s, unsigned char *out, size_t want);

#endif
