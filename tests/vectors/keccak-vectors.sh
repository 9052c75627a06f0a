#!/usr/bin/env bash
# keccak-vectors.sh OUT: Keccak-256 test vectors computed by a real
# implementation (Foundry's `cast keccak`), for tests/unit/test_keccak.c.
#
# Writes one line per input, "HEX_INPUT HEX_DIGEST" ("-" for the empty
# input), with lengths chosen around the 136-byte rate of the sponge, where
# padding bugs live: 0..3, 31..33, 63..65, 134..138, 270..274, 407..409, 1000.
set -euo pipefail
out=${1:?usage: keccak-vectors.sh OUT}
cast=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/node_modules/.bin/cast
[ -x "$cast" ] || { echo "keccak-vectors.sh: cast not installed; run scripts/bootstrap" >&2; exit 1; }

# Deterministic bytes: byte i of input n is (i * 31 + n * 7) mod 256.
input_hex() {
        awk -v len="$1" -v n="$2" 'BEGIN { for (i = 0; i < len; i++) printf "%02x", (i * 31 + n * 7) % 256 }'
}

tmp=$out.tmp
: > "$tmp"
n=0
for len in 0 1 2 3 31 32 33 63 64 65 134 135 136 137 138 270 271 272 273 274 407 408 409 1000; do
        hex=$(input_hex "$len" "$n")
        digest=$("$cast" keccak "0x$hex")
        printf '%s %s\n' "${hex:--}" "${digest#0x}" >> "$tmp"
        n=$((n + 1))
done
mv "$tmp" "$out"
