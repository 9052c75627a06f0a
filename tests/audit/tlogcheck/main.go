// Command tlogcheck verifies relaywatch's audit log, its checkpoints and its
// proofs with code that shares nothing with relaywatch: Go's
// golang.org/x/mod/sumdb/tlog (the RFC 6962 tree, the proofs) and
// golang.org/x/mod/sumdb/note (C2SP signed notes), crypto/ed25519 for the
// key certificates and the witness cosignatures, and the standard library;
// BLAKE2b (for key_ids) and the format's messages are tests/audit/gocommon's
// (relaywatch.test/auditcommon, which gogen uses too).
//
//	tlogcheck log --vkey VKEY [--vkeys-out F] [--roots-out F] FILE|DIR...
//	tlogcheck prove [--vkey VKEY]... [--vkeys F] [--roots F] [FILE.json|-]
//	tlogcheck consistency [--vkey VKEY]... [--vkeys F] [--roots F] [FILE.json|-]
//	tlogcheck cosig [--vkey VKEY]... [--vkeys F] --witness WVKEY... [NOTEFILE|-]
//	tlogcheck note [--vkey VKEY]... [--vkeys F] [NOTEFILE|-]
//
// Flags come before the files. Every subcommand exits 0 when everything
// verifies and 1, with one line on stderr saying what does not hold, on any
// failure (usage errors included).
//
// Keys. A verifier key (VKEY) is a signed-note verifier key,
// `<origin>+<8 hex key hash>+<base64(0x01 || Ed25519 public key)>`.
// `log` takes exactly one: the pinned genesis key (epoch 0); it finds the
// later epochs' keys in the log itself, each certified by the one before.
// The other subcommands take the keys a checkpoint may be signed by: any
// number of --vkey flags and/or --vkeys FILE (one key a line; empty lines
// and lines starting with '#' are skipped), e.g. the file `log --vkeys-out`
// wrote after checking the whole key chain.
//
// Roots. `log --roots-out F` writes "SIZE ROOT" for every tree size from 1
// to the number of records, computed from the files; `prove --roots F` and
// `consistency --roots F` then require every tree size the proof names to
// be in F with the same root, so a proof is also tied to the log's content,
// not only to its signature.
//
// Build (GOPATH mode: Debian's golang-golang-x-mod-dev installs the
// packages under /usr/share/gocode and there is no module proxy; GOPATH
// mode builds a main package that lives outside GOPATH and imports from
// GOPATH without a go.mod). tests/audit/audit_go.cmake links
// tests/audit/gocommon to $BUILD/tests/audit/gopath/src/relaywatch.test/
// auditcommon and builds with
//
//	GO111MODULE=off GOPATH=/usr/share/gocode:$BUILD/tests/audit/gopath \
//	  GOCACHE=$BUILD/tests/audit/go-cache go build -o $BUILD/tests/audit/tlogcheck .
//
// in this directory, and runs its unit tests (RFC 7693 and PROTOCOL.md
// vectors, the fixtures in tests/audit/fixtures) with `go test .` there
// (ctest -R audit_tlogcheck_go).
package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"relaywatch.test/auditcommon"
)

const usageText = `usage:
  tlogcheck log --vkey VKEY [--vkeys-out FILE] [--roots-out FILE] FILE|DIR...
  tlogcheck prove [--vkey VKEY]... [--vkeys FILE] [--roots FILE] [FILE.json|-]
  tlogcheck consistency [--vkey VKEY]... [--vkeys FILE] [--roots FILE] [FILE.json|-]
  tlogcheck cosig [--vkey VKEY]... [--vkeys FILE] --witness WVKEY... [NOTEFILE|-]
  tlogcheck note [--vkey VKEY]... [--vkeys FILE] [NOTEFILE|-]
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usageText)
		os.Exit(1)
	}
	cmds := map[string]func([]string, io.Writer) error{
		"log":         runLog,
		"prove":       runProve,
		"consistency": runConsistency,
		"cosig":       runCosig,
		"note":        runNote,
	}
	cmd, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "tlogcheck: unknown subcommand %q\n%s", os.Args[1], usageText)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	err := cmd(os.Args[2:], out)
	if ferr := out.Flush(); err == nil && ferr != nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "tlogcheck %s: FAIL: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// ---- flags -------------------------------------------------------------

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// newFlags is a flag set that reports errors instead of exiting, and whose
// usage goes to stderr once.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("tlogcheck "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v\n%s", err, usageText)
	}
	return nil
}

// verifierFlags are --vkey (repeated) and --vkeys FILE.
type verifierFlags struct {
	vkeys     stringList
	vkeysFile string
}

func (v *verifierFlags) register(fs *flag.FlagSet) {
	fs.Var(&v.vkeys, "vkey", "a verifier key a checkpoint may be signed by (repeatable)")
	fs.StringVar(&v.vkeysFile, "vkeys", "", "a file of verifier keys, one a line")
}

// load turns the flags into verifiers: at least one, each valid.
func (v *verifierFlags) load() ([]note.Verifier, error) {
	all := append([]string(nil), v.vkeys...)
	if v.vkeysFile != "" {
		data, err := os.ReadFile(v.vkeysFile)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			all = append(all, line)
		}
	}
	if len(all) == 0 {
		return nil, errors.New("no verifier key: give --vkey VKEY or --vkeys FILE")
	}
	var out []note.Verifier
	seen := map[string]bool{}
	for _, k := range all {
		if seen[k] {
			continue
		}
		seen[k] = true
		ver, err := note.NewVerifier(k)
		if err != nil {
			return nil, fmt.Errorf("verifier key %q: %v", k, err)
		}
		out = append(out, ver)
	}
	return out, nil
}

// oneInput is the single file argument ("-" or none: stdin).
func oneInput(fs *flag.FlagSet) ([]byte, string, error) {
	switch fs.NArg() {
	case 0:
		data, err := io.ReadAll(os.Stdin)
		return data, "stdin", err
	case 1:
		name := fs.Arg(0)
		if name == "-" {
			data, err := io.ReadAll(os.Stdin)
			return data, "stdin", err
		}
		data, err := os.ReadFile(name)
		return data, name, err
	default:
		return nil, "", fmt.Errorf("one input file expected, got %d\n%s", fs.NArg(), usageText)
	}
}

// ---- signed notes and checkpoints -----------------------------------------

// checkpoint is the body of a C2SP tlog-checkpoint.
type checkpoint struct {
	Origin     string
	Size       int64
	Root       tlog.Hash
	Extensions []string
}

var decimalRE = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)

// parseDecimal reads a non-negative int64 written without sign, leading
// zeros, fraction or exponent.
func parseDecimal(s string) (int64, error) {
	if !decimalRE.MatchString(s) {
		return 0, fmt.Errorf("%q is not a non-negative decimal integer without leading zeros", s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return n, nil
}

// decodeB64 decodes canonical standard padded base64 (no line breaks, zero
// padding bits) of exactly n bytes.
func decodeB64(s string, n int) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || base64.StdEncoding.EncodeToString(b) != s {
		return nil, fmt.Errorf("%q is not canonical standard padded base64", s)
	}
	if len(b) != n {
		return nil, fmt.Errorf("%q decodes to %d bytes, want %d", s, len(b), n)
	}
	return b, nil
}

func decodeHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := decodeB64(s, tlog.HashSize)
	if err != nil {
		return h, err
	}
	copy(h[:], b)
	return h, nil
}

func b64(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

// parseCheckpoint reads `<origin>\n<size>\n<base64 root>\n[extension lines]`.
func parseCheckpoint(text string) (checkpoint, error) {
	var c checkpoint
	if !strings.HasSuffix(text, "\n") {
		return c, errors.New("checkpoint text does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return c, fmt.Errorf("checkpoint text has %d lines, want origin, size and root", len(lines))
	}
	c.Origin = lines[0]
	if c.Origin == "" {
		return c, errors.New("checkpoint origin (line 1) is empty")
	}
	size, err := parseDecimal(lines[1])
	if err != nil {
		return c, fmt.Errorf("checkpoint size (line 2): %v", err)
	}
	c.Size = size
	if c.Root, err = decodeHash(lines[2]); err != nil {
		return c, fmt.Errorf("checkpoint root (line 3): %v", err)
	}
	for i, l := range lines[3:] {
		if l == "" {
			return c, fmt.Errorf("checkpoint extension line %d is empty", i+4)
		}
	}
	c.Extensions = lines[3:]
	return c, nil
}

func sigNames(sigs []note.Signature) string {
	var s []string
	for _, g := range sigs {
		s = append(s, fmt.Sprintf("%s+%08x", g.Name, g.Hash))
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// openNote opens a signed note with the given verifiers, turning
// x/mod's errors into sentences.
func openNote(text string, vers []note.Verifier) (*note.Note, error) {
	n, err := note.Open([]byte(text), note.VerifierList(vers...))
	if err == nil {
		return n, nil
	}
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		var names []string
		for _, v := range vers {
			names = append(names, fmt.Sprintf("%s+%08x", v.Name(), v.KeyHash()))
		}
		return nil, fmt.Errorf("the note is signed by none of the keys given (%s); it carries signatures by %s",
			strings.Join(names, ", "), sigNames(unverified.Note.UnverifiedSigs))
	case errors.As(err, &invalid):
		return nil, fmt.Errorf("the note's signature by %s+%08x does not verify", invalid.Name, invalid.Hash)
	default:
		return nil, fmt.Errorf("the note is not a valid signed note: %v", err)
	}
}

// openCheckpoint opens a signed checkpoint: the signature by one of vers
// verifies, the text is a checkpoint whose origin is the signing key's name.
func openCheckpoint(text string, vers []note.Verifier) (*note.Note, checkpoint, error) {
	n, err := openNote(text, vers)
	if err != nil {
		return nil, checkpoint{}, err
	}
	c, err := parseCheckpoint(n.Text)
	if err != nil {
		return nil, checkpoint{}, err
	}
	for _, s := range n.Sigs {
		if s.Name != c.Origin {
			return nil, checkpoint{}, fmt.Errorf("the checkpoint's origin %q is not the name of the key that signed it (%q)",
				c.Origin, s.Name)
		}
	}
	return n, c, nil
}

// ---- witness cosignatures (C2SP tlog-cosignature, cosignature/v1) ----------

// witnessKey is a witness's Ed25519 key, given as an Ed25519 verifier key.
type witnessKey struct {
	name    string
	pk      ed25519.PublicKey
	cosHash uint32 // key hash with the cosignature/v1 algorithm byte
}

func parseWitness(vkey string) (witnessKey, error) {
	if _, err := note.NewVerifier(vkey); err != nil {
		return witnessKey{}, fmt.Errorf("witness key %q: %v", vkey, err)
	}
	parts := strings.SplitN(vkey, "+", 3)
	raw, _ := base64.StdEncoding.DecodeString(parts[2]) // NewVerifier checked it
	if len(raw) != 33 || raw[0] != 0x01 {
		return witnessKey{}, fmt.Errorf("witness key %q is not an Ed25519 key", vkey)
	}
	w := witnessKey{name: parts[0], pk: ed25519.PublicKey(raw[1:])}
	w.cosHash = auditcommon.CosignatureKeyHash(w.name, w.pk)
	return w, nil
}

// checkCosignature finds w's cosignature/v1 among the note's unverified
// signatures and verifies it; it returns the time the witness states.
func checkCosignature(n *note.Note, w witnessKey) (uint64, error) {
	found := false
	for _, s := range n.UnverifiedSigs {
		if s.Name != w.name || s.Hash != w.cosHash {
			continue
		}
		found = true
		raw, err := base64.StdEncoding.DecodeString(s.Base64)
		if err != nil || len(raw) != 4+8+ed25519.SignatureSize {
			return 0, fmt.Errorf("the cosignature by %s+%08x is %d bytes, want key hash, time and signature (76)",
				w.name, w.cosHash, len(raw))
		}
		t := binary.BigEndian.Uint64(raw[4:12])
		if !ed25519.Verify(w.pk, auditcommon.CosignatureMessage(t, n.Text), raw[12:]) {
			return 0, fmt.Errorf("the cosignature by %s+%08x (time %d) does not verify", w.name, w.cosHash, t)
		}
		return t, nil
	}
	if !found {
		return 0, fmt.Errorf("no cosignature/v1 by witness %s+%08x; the note's other signatures: %s",
			w.name, w.cosHash, sigNames(n.UnverifiedSigs))
	}
	return 0, nil
}

// ---- strict JSON ---------------------------------------------------------

// jsonObject is one JSON object with its member names in order; a name
// given twice is refused.
type jsonObject struct {
	keys []string
	vals map[string]json.RawMessage
}

func parseObject(data []byte) (*jsonObject, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	o := &jsonObject{vals: map[string]json.RawMessage{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not JSON: %v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("not JSON: a member name is not a string")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("not JSON: member %q: %v", name, err)
		}
		if _, dup := o.vals[name]; dup {
			return nil, fmt.Errorf("member %q appears twice", name)
		}
		o.keys = append(o.keys, name)
		o.vals[name] = bytes.TrimSpace(raw)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("text after the JSON object")
	}
	return o, nil
}

// wantKeys requires exactly these members; in this order if ordered.
func (o *jsonObject) wantKeys(ordered bool, want ...string) error {
	set := map[string]bool{}
	for _, w := range want {
		set[w] = true
	}
	for _, k := range o.keys {
		if !set[k] {
			return fmt.Errorf("unexpected member %q (want exactly %s)", k, strings.Join(want, ", "))
		}
	}
	for _, w := range want {
		if _, ok := o.vals[w]; !ok {
			return fmt.Errorf("member %q is missing", w)
		}
	}
	if ordered && strings.Join(o.keys, ",") != strings.Join(want, ",") {
		return fmt.Errorf("members are in the order %s, want %s", strings.Join(o.keys, ", "), strings.Join(want, ", "))
	}
	return nil
}

func (o *jsonObject) int(name string) (int64, error) {
	n, err := parseDecimal(string(o.vals[name]))
	if err != nil {
		return 0, fmt.Errorf("%q: %v", name, err)
	}
	return n, nil
}

func (o *jsonObject) str(name string) (string, error) {
	raw := o.vals[name]
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("%q is not a string", name)
	}
	return s, nil
}

func (o *jsonObject) hash(name string) (tlog.Hash, error) {
	s, err := o.str(name)
	if err != nil {
		return tlog.Hash{}, err
	}
	h, err := decodeHash(s)
	if err != nil {
		return h, fmt.Errorf("%q: %v", name, err)
	}
	return h, nil
}

func (o *jsonObject) hashes(name string) ([]tlog.Hash, error) {
	raw := o.vals[name]
	var list []string
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &list) != nil {
		return nil, fmt.Errorf("%q is not an array of strings", name)
	}
	out := make([]tlog.Hash, 0, len(list))
	for i, s := range list {
		h, err := decodeHash(s)
		if err != nil {
			return nil, fmt.Errorf("%q[%d]: %v", name, i, err)
		}
		out = append(out, h)
	}
	return out, nil
}

// errorf prefixes a context to an error.
func errorf(err error, format string, args ...interface{}) error {
	return fmt.Errorf("%s: %v", fmt.Sprintf(format, args...), err)
}
