// Package auditcommon is what the Go audit-log tools share: tlogcheck (the
// independent verifier, tests/audit/tlogcheck) and gogen (the fixture
// generator, tests/audit/gogen). It holds the pieces of relaywatch's audit
// log format that both compute the same way: BLAKE2b and the key_id, the
// signed-note keys, the key certificate's message and the witness
// cosignature's key hash and message. Like the tools, it imports nothing but
// the standard library and golang.org/x/mod/sumdb, and nothing of
// relaywatch's C code: both tools are checked against relaywatch, not against
// each other alone (tests/integration/audit_independent.sh).
//
// Import path relaywatch.test/auditcommon: tests/audit/audit_go.cmake links
// this directory into a GOPATH entry in the build tree (GOPATH mode, no
// go.mod, no network).
package auditcommon

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// KeyID is docs/PROTOCOL.md section 3.1's key_id of a public key: the first
// 8 bytes of BLAKE2b-256 of the key, as 16 lowercase hex digits.
func KeyID(pk []byte) string {
	return hex.EncodeToString(Blake2b(pk, 32)[:8])
}

// Ed25519NoteKey is the signed-note key pair of an Ed25519 key under name:
// the verifier key `<name>+<8 hex key hash>+<base64(0x01 || public key)>`
// and a signer (note.NewSigner reads PRIVATE+KEY+<name>+<the verifier key's
// hash>+base64(0x01 || seed)).
func Ed25519NoteKey(name string, priv ed25519.PrivateKey) (string, note.Signer, error) {
	vkey, err := note.NewEd25519VerifierKey(name, priv.Public().(ed25519.PublicKey))
	if err != nil {
		return "", nil, err
	}
	hash := strings.Split(vkey, "+")[1]
	signer, err := note.NewSigner("PRIVATE+KEY+" + name + "+" + hash + "+" +
		base64.StdEncoding.EncodeToString(append([]byte{1}, priv.Seed()...)))
	if err != nil {
		return "", nil, err
	}
	return vkey, signer, nil
}

// KeyCertMessage is what a key_epoch's cert signs, with the key of the
// epoch before: "relaywatch-audit-key/v1\n" origin "\n" epoch "\n"
// public_key (base64) "\n".
func KeyCertMessage(origin string, epoch int64, publicKeyB64 string) []byte {
	return []byte("relaywatch-audit-key/v1\n" + origin + "\n" + strconv.FormatInt(epoch, 10) + "\n" +
		publicKeyB64 + "\n")
}

// algCosignatureV1 is the signature algorithm byte of C2SP
// tlog-cosignature's cosignature/v1.
const algCosignatureV1 = 0x04

// CosignatureKeyHash is the key hash a witness's cosignature/v1 line
// carries: the first 4 bytes (big endian) of SHA-256(name "\n" 0x04 pk).
func CosignatureKeyHash(name string, pk ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{algCosignatureV1})
	h.Write(pk)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// CosignatureMessage is what a cosignature/v1 signs: "cosignature/v1\ntime "
// the witness's time (decimal seconds) "\n", then the checkpoint text.
func CosignatureMessage(t uint64, text string) []byte {
	return []byte("cosignature/v1\ntime " + strconv.FormatUint(t, 10) + "\n" + text)
}
