#include "fuzz_key.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

void fuzz_key_init(struct signing_key *key, unsigned char seed_byte)
{
        unsigned char seed[crypto_sign_SEEDBYTES];
        unsigned char pk[crypto_sign_PUBLICKEYBYTES];

        if (key->pub.key_id[0] != '\0')
                return;
        if (sodium_init() < 0)
                abort();
        memset(seed, seed_byte, sizeof seed);
        if (crypto_sign_seed_keypair(pk, key->sk, seed) != 0)
                abort();
        verify_key_from_bytes(pk, &key->pub);
}
