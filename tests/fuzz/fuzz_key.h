/* A fixed Ed25519 test key for the fuzz targets that sign what they check. */
#ifndef RELAYWATCH_FUZZ_KEY_H
#define RELAYWATCH_FUZZ_KEY_H

#include "signing_key.h"

/*
 * Fills *key (once; later calls return at once) with the key pair whose
 * 32-byte seed is `seed_byte` repeated. Aborts when libsodium cannot start.
 */
void fuzz_key_init(struct signing_key *key, unsigned char seed_byte);

#endif
