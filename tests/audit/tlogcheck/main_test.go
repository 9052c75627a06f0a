package main

// Unit tests: BLAKE2b against RFC 7693 and docs/PROTOCOL.md's key_ids (the
// code of tests/audit/gocommon, which tlogcheck and gogen share), the
// fixtures of tests/audit/fixtures (the good log and every proof in it
// verify, each faulty log fails for its own reason), and that changing any
// one thing in a good log, proof or note makes tlogcheck fail. Run as
// main.go says (ctest -R audit_tlogcheck_go: go test . in GOPATH mode).

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"relaywatch.test/auditcommon"
)

const fixtures = "../fixtures"

func TestBlake2b(t *testing.T) {
	abc512 := "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1" +
		"7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923" // RFC 7693 appendix A
	if got := hex.EncodeToString(auditcommon.Blake2b([]byte("abc"), 64)); got != abc512 {
		t.Fatalf("BLAKE2b-512(abc) = %s", got)
	}
	// BLAKE2b-256 of longer inputs (several blocks, an exact block), from
	// Python's hashlib.blake2b(digest_size=32).
	long := bytes.Repeat(func() []byte {
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}(), 3)
	for _, c := range []struct {
		in   []byte
		want string
	}{
		{nil, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"},
		{long, "b8007121274217790e2923e0ad7027986e5a99d5531ef6ae7d294140fc81615d"},
		{make([]byte, 128), "378d0caaaa3855f1b38693c1d6ef004fd118691c95c959d4efa950d6d6fcf7c1"},
	} {
		if got := hex.EncodeToString(auditcommon.Blake2b(c.in, 32)); got != c.want {
			t.Errorf("BLAKE2b-256 of %d bytes = %s, want %s", len(c.in), got, c.want)
		}
	}
}

// The key_ids docs/protocol-vectors/vectors.json lists (PROTOCOL.md 3.1).
func TestKeyIDVectors(t *testing.T) {
	data, err := os.ReadFile("../../../docs/protocol-vectors/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		KeyIDs map[string]string `json:"key_ids"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.KeyIDs) == 0 {
		t.Fatal("no key_ids in the vectors")
	}
	for pkB64, want := range v.KeyIDs {
		pk, err := base64.StdEncoding.DecodeString(pkB64)
		if err != nil {
			t.Fatal(err)
		}
		if got := auditcommon.KeyID(pk); got != want {
			t.Errorf("key_id(%s) = %s, want %s", pkB64, got, want)
		}
	}
	// PROTOCOL.md's worked example: the key of seed 32 bytes of 0x11.
	pk := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x11}, 32)).Public().(ed25519.PublicKey)
	if got := auditcommon.KeyID(pk); got != "d3bd75fcd7676504" {
		t.Errorf("key_id of the 0x11 seed's key = %s", got)
	}
}

func readLine(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

func run(cmd func([]string, io.Writer) error, args ...string) (string, error) {
	var out bytes.Buffer
	err := cmd(args, &out)
	return out.String(), err
}

// checkGood verifies a log directory laid out as gogen writes it; it
// returns the --vkeys-out and --roots-out files.
func checkGood(t *testing.T, dir string) (string, string) {
	t.Helper()
	tmp := t.TempDir()
	vkeys, roots := filepath.Join(tmp, "vkeys"), filepath.Join(tmp, "roots")
	out, err := run(runLog, "--vkey", readLine(t, filepath.Join(dir, "vkey")), "--vkeys-out", vkeys,
		"--roots-out", roots, filepath.Join(dir, "audit"))
	if err != nil {
		t.Fatalf("log %s: %v", dir, err)
	}
	t.Log(out)
	return vkeys, roots
}

func TestGoodFixture(t *testing.T) {
	dir := filepath.Join(fixtures, "go-generated")
	vkeys, roots := checkGood(t, dir)
	// The chain tlogcheck verified is the keys gogen used.
	if got, want := readLine(t, vkeys), readLine(t, filepath.Join(dir, "vkeys")); got != want {
		t.Fatalf("vkeys-out\n%s\nwant\n%s", got, want)
	}
	if n := strings.Count(readLine(t, roots), "\n") + 1; n != 300 {
		t.Fatalf("roots-out has %d lines, want 300", n)
	}
	proofs, _ := filepath.Glob(filepath.Join(dir, "proofs", "*.json"))
	if len(proofs) < 10 {
		t.Fatalf("only %d proofs in the fixture", len(proofs))
	}
	for _, p := range proofs {
		cmd := runProve
		if strings.HasPrefix(filepath.Base(p), "consistency-") {
			cmd = runConsistency
		}
		if _, err := run(cmd, "--vkeys", vkeys, "--roots", roots, p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	wit := readLine(t, filepath.Join(dir, "witness.vkey"))
	out, err := run(runCosig, "--vkeys", vkeys, "--witness", wit, filepath.Join(dir, "checkpoint.cosigned.note"))
	if err != nil || !strings.Contains(out, "at 1796299500 (2026-12-03T12:05:00Z)") {
		t.Errorf("cosig: %q %v", out, err)
	}
	if _, err := run(runCosig, "--vkeys", vkeys, "--witness", wit, filepath.Join(dir, "checkpoint.note")); err == nil ||
		!strings.Contains(err.Error(), "no cosignature/v1") {
		t.Errorf("cosig of an uncosigned note: %v", err)
	}
	out, err = run(runNote, "--vkeys", vkeys, filepath.Join(dir, "checkpoint.note"))
	if err != nil || out != "relaywatch.test/audit 299 7amSRXxQ2SoGse/H138qZ9aCS/EqhTZOOAKE6Wy6vbE=\n" {
		t.Errorf("note: %q %v", out, err)
	}
	// Only the genesis key: the last checkpoint is epoch 1's.
	if _, err := run(runNote, "--vkey", readLine(t, filepath.Join(dir, "vkey")), filepath.Join(dir, "checkpoint.note")); err == nil ||
		!strings.Contains(err.Error(), "signed by none of the keys given") {
		t.Errorf("note with the genesis key only: %v", err)
	}
}

func TestBadFixtures(t *testing.T) {
	want := map[string]string{
		"expired-key":     "signed by the expired key of epoch 0",
		"bad-cert":        "cert does not verify under epoch 0's key",
		"bad-root":        "is not the tree of the records 0..24",
		"tampered-record": "is not the tree of the records",
	}
	dirs, _ := filepath.Glob(filepath.Join(fixtures, "go-generated-bad", "*"))
	if len(dirs) != len(want) {
		t.Fatalf("%d faulty fixtures, want %d", len(dirs), len(want))
	}
	for _, dir := range dirs {
		w, ok := want[filepath.Base(dir)]
		if !ok {
			t.Errorf("%s: no expectation", dir)
			continue
		}
		_, err := run(runLog, "--vkey", readLine(t, filepath.Join(dir, "vkey")), filepath.Join(dir, "audit"))
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("%s: got %v, want an error with %q", dir, err, w)
		}
	}
}

// copyLog copies the good fixture's log into a temporary directory.
func copyLog(t *testing.T) string {
	t.Helper()
	src := filepath.Join(fixtures, "go-generated", "audit")
	dst := filepath.Join(t.TempDir(), "audit")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func editFile(t *testing.T, path string, edit func([]byte) []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, edit(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func replaceOnce(t *testing.T, old, new string) func([]byte) []byte {
	return func(b []byte) []byte {
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("%q not found", old)
		}
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}
}

func TestLogChanges(t *testing.T) {
	vkey := readLine(t, filepath.Join(fixtures, "go-generated", "vkey"))
	f0, f1, f2 := "audit-000000000000.jsonl", "audit-000000000128.jsonl", "audit-000000000256.jsonl"
	cases := []struct {
		name string
		do   func(dir string)
		want string
	}{
		{"one byte of a record", func(d string) {
			editFile(t, filepath.Join(d, f1), replaceOnce(t, `"verdict":"pass"`, `"verdict":"pasS"`))
		}, "is not the tree of the records"},
		{"a record's whitespace", func(d string) {
			editFile(t, filepath.Join(d, f1), replaceOnce(t, `"verdict":"pass"`, `"verdict": "pass"`))
		}, "is not the tree of the records"},
		{"a line dropped", func(d string) {
			editFile(t, filepath.Join(d, f0), func(b []byte) []byte {
				lines := bytes.SplitAfter(b, []byte("\n"))
				return bytes.Join(append(lines[:5:5], lines[6:]...), nil)
			})
		}, "seq is 6, want 5"},
		{"a file missing", func(d string) { os.Remove(filepath.Join(d, f1)) }, "starts at seq 256 but the next record is seq 128"},
		{"a line torn before the last file", func(d string) {
			editFile(t, filepath.Join(d, f1), func(b []byte) []byte { return b[:len(b)-1] })
		}, "does not end in a newline, and a later file follows"},
		{"a member twice", func(d string) {
			editFile(t, filepath.Join(d, f0), replaceOnce(t, `"kind":"cycle",`, `"kind":"cycle","kind":"cycle",`))
		}, `member "kind" appears twice`},
		{"members reordered", func(d string) {
			editFile(t, filepath.Join(d, f0), replaceOnce(t, `"ts":"2026-12-03T12:00:00.616Z","kind":"cycle"`,
				`"kind":"cycle","ts":"2026-12-03T12:00:00.616Z"`))
		}, "members are in the order"},
		{"a checkpoint's size", func(d string) {
			editFile(t, filepath.Join(d, f0), replaceOnce(t, `"content":{"size":10,`, `"content":{"size":9,`))
		}, "want its own seq 10"},
		{"the genesis key", func(d string) {
			editFile(t, filepath.Join(d, f0), replaceOnce(t, `"epoch":0,"public_key":"+`, `"epoch":0,"public_key":"/`))
		}, "public_key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := copyLog(t)
			c.do(d)
			_, err := run(runLog, "--vkey", vkey, d)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
	// A write cut short at the very end is not a record and no error.
	d := copyLog(t)
	editFile(t, filepath.Join(d, f2), func(b []byte) []byte { return b[:len(b)-1] })
	if out, err := run(runLog, "--vkey", vkey, d); err != nil || !strings.Contains(out, "299 records in 3 files") ||
		!strings.Contains(out, "incomplete: the last file ends in") {
		t.Fatalf("torn last line: %q %v", out, err)
	}
	// Another genesis key pinned.
	other := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	ov, _ := note.NewEd25519VerifierKey("relaywatch.test/audit", other)
	if _, err := run(runLog, "--vkey", ov, copyLog(t)); err == nil || !strings.Contains(err.Error(), "not the pinned --vkey") {
		t.Fatalf("another genesis key: %v", err)
	}
}

// mutateJSON rewrites one member of a proof file into a temporary file.
func mutateJSON(t *testing.T, path string, edit func(map[string]interface{})) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]interface{}{}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func flipHash(s string) string {
	b, _ := base64.StdEncoding.DecodeString(s)
	b[7] ^= 1
	return base64.StdEncoding.EncodeToString(b)
}

// resign replaces a note's signature by one of another key with the same name.
func resign(t *testing.T, signed string) string {
	t.Helper()
	text := signed[:strings.Index(signed, "\n\n")+1]
	seed := sha256.Sum256([]byte("not the log's key"))
	_, s, err := auditcommon.Ed25519NoteKey("relaywatch.test/audit", ed25519.NewKeyFromSeed(seed[:]))
	if err != nil {
		t.Fatal(err)
	}
	out, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestProofChanges(t *testing.T) {
	dir := filepath.Join(fixtures, "go-generated")
	vkeys, roots := checkGood(t, dir)
	prove := filepath.Join(dir, "proofs", "prove-000150-000299.json")
	cons := filepath.Join(dir, "proofs", "consistency-000151-000299.json")
	num := func(n int64) json.Number { return json.Number(strconv.FormatInt(n, 10)) }
	cases := []struct {
		name string
		cmd  func([]string, io.Writer) error
		file string
		edit func(map[string]interface{})
		want string
	}{
		{"prove: a proof hash", runProve, prove, func(m map[string]interface{}) {
			p := m["proof"].([]interface{})
			p[2] = flipHash(p[2].(string))
		}, "invalid transparency proof"},
		{"prove: a proof hash less", runProve, prove, func(m map[string]interface{}) {
			p := m["proof"].([]interface{})
			m["proof"] = p[:len(p)-1]
		}, "inclusion proof"},
		{"prove: the record", runProve, prove, func(m map[string]interface{}) {
			m["record"] = strings.Replace(m["record"].(string), `"epoch":1`, `"epoch":2`, 1)
		}, "invalid transparency proof"},
		{"prove: the index", runProve, prove, func(m map[string]interface{}) { m["index"] = num(151) }, "the record's seq is 150"},
		{"prove: the root", runProve, prove, func(m map[string]interface{}) { m["root"] = flipHash(m["root"].(string)) }, "but the checkpoint says"},
		{"prove: the tree size", runProve, prove, func(m map[string]interface{}) { m["tree_size"] = num(298) }, "but the checkpoint says"},
		{"prove: another key", runProve, prove, func(m map[string]interface{}) {
			m["checkpoint"] = resign(t, m["checkpoint"].(string))
		}, "signed by none of the keys given"},
		{"prove: a member more", runProve, prove, func(m map[string]interface{}) { m["extra"] = true }, `unexpected member "extra"`},
		{"consistency: a proof hash", runConsistency, cons, func(m map[string]interface{}) {
			p := m["proof"].([]interface{})
			p[0] = flipHash(p[0].(string))
		}, "consistency proof"},
		{"consistency: from", runConsistency, cons, func(m map[string]interface{}) { m["from"] = num(152) }, "but the log's records give"},
		{"consistency: from_root", runConsistency, cons, func(m map[string]interface{}) {
			m["from_root"] = flipHash(m["from_root"].(string))
		}, "but the log's records give"},
		{"consistency: to_root", runConsistency, cons, func(m map[string]interface{}) {
			m["to_root"] = flipHash(m["to_root"].(string))
		}, "but the checkpoint says"},
		{"consistency: another key", runConsistency, cons, func(m map[string]interface{}) {
			m["checkpoint"] = resign(t, m["checkpoint"].(string))
		}, "signed by none of the keys given"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mutateJSON(t, c.file, c.edit)
			_, err := run(c.cmd, "--vkeys", vkeys, "--roots", roots, p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
	// Without --roots a changed from_root is still caught by the proof.
	p := mutateJSON(t, cons, func(m map[string]interface{}) { m["from_root"] = flipHash(m["from_root"].(string)) })
	if _, err := run(runConsistency, "--vkeys", vkeys, p); err == nil || !strings.Contains(err.Error(), "invalid transparency proof") {
		t.Fatalf("from_root without --roots: %v", err)
	}
}

func TestCosigChanges(t *testing.T) {
	dir := filepath.Join(fixtures, "go-generated")
	vkeys := filepath.Join(dir, "vkeys")
	wit := readLine(t, filepath.Join(dir, "witness.vkey"))
	signed := readLine(t, filepath.Join(dir, "checkpoint.cosigned.note")) + "\n"
	lines := strings.Split(strings.TrimSuffix(signed, "\n"), "\n")
	cosig := lines[len(lines)-1]
	fields := strings.Fields(cosig)
	raw, _ := base64.StdEncoding.DecodeString(fields[2])
	write := func(s string) string {
		p := filepath.Join(t.TempDir(), "note")
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Another time than the one signed.
	moved := append([]byte(nil), raw...)
	moved[11]++
	p := write(strings.Replace(signed, fields[2], base64.StdEncoding.EncodeToString(moved), 1))
	if _, err := run(runCosig, "--vkeys", vkeys, "--witness", wit, p); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("cosignature with another time: %v", err)
	}
	// The cosignature taken to another checkpoint text.
	other := strings.Replace(signed, "\n299\n", "\n298\n", 1)
	if _, err := run(runCosig, "--vkeys", vkeys, "--witness", wit, write(other)); err == nil {
		t.Fatal("a cosignature on a changed text verified")
	}
	// A witness given as another key of the same name.
	seed := sha256.Sum256([]byte("another witness"))
	ow, _ := note.NewEd25519VerifierKey("witness.test/w1", ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey))
	if _, err := run(runCosig, "--vkeys", vkeys, "--witness", ow, write(signed)); err == nil ||
		!strings.Contains(err.Error(), "no cosignature/v1") {
		t.Fatalf("another witness key: %v", err)
	}
}
