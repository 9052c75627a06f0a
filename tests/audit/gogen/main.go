// Command gogen writes a relaywatch audit log with code that shares nothing
// with relaywatch: Go's golang.org/x/mod/sumdb/tlog for the tree and the
// proofs, golang.org/x/mod/sumdb/note for the signed checkpoints,
// crypto/ed25519 for the key certificates and the witness cosignature. A
// log it writes is what relaywatch's own verifier must accept (and the
// faulty ones what it must refuse); tests/audit/fixtures holds its output.
//
//	gogen --dir DIR [--records N] [--epoch-every K] [--checkpoint-every C]
//	      [--file-records R] [--origin NAME] [--seed S] [--witness-seed S]
//	      [--proofs] [--fault F]
//	gogen --fixtures DIR     the fixture sets of tests/audit/fixtures, into DIR
//
// Layout of a log (the format of the audit log issue):
//
//	DIR/audit/audit-<first seq, 12 digits>.jsonl  R records a file
//	DIR/audit.key.pub    relaywatch-ed25519-public-v1 <base64 genesis key>
//	                     (also in DIR/audit, where relaywatch keeps it)
//	DIR/vkey             the genesis verifier key (also printed on stdout)
//	DIR/vkeys            every epoch's verifier key, one a line
//	DIR/checkpoint.note  the last checkpoint's signed note
//	with --witness-seed: DIR/witness.vkey and DIR/checkpoint.cosigned.note
//	(that note with a cosignature/v1 by the witness)
//	with --proofs: DIR/proofs/prove-<index>-<size>.json and
//	DIR/proofs/consistency-<from>-<to>.json, as `relaywatch audit prove
//	--json` and `relaywatch audit consistency --json` print them
//
// Record seq 0 is key_epoch 0; a key_epoch every K records (K > 0);
// otherwise a checkpoint every C records and as the last record; the rest
// are filler records of a few kinds, with escapes and non-ASCII text so a
// verifier that does not hash the line's exact bytes fails. Keys are
// Ed25519 keys whose seeds are SHA-256("gogen key " + seed + " " + epoch)
// (witness: SHA-256("gogen witness " + witness seed)): test keys, nothing
// else. Everything is deterministic: the same flags write the same bytes.
//
// Faults (--fault), each making exactly one thing wrong:
//
//	expired-key      the first checkpoint after epoch 1 came in is signed
//	                 by epoch 0's key (and names epoch 0 and its key_id)
//	bad-cert         epoch 1's cert is signed by epoch 1's own key
//	bad-root         one checkpoint's root is the tree one record short
//	                 (note and record agree, both signed)
//	tampered-record  one filler record has a byte changed after the log
//	                 was written
//
// BLAKE2b, the key_id, the note keys, the key certificate's and the
// cosignature's messages are tests/audit/gocommon's (relaywatch.test/
// auditcommon), which tlogcheck uses too. Build as tests/audit/audit_go.cmake
// does: GO111MODULE=off, GOPATH=/usr/share/gocode:$BUILD/tests/audit/gopath
// (where it links relaywatch.test/auditcommon to tests/audit/gocommon).
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"relaywatch.test/auditcommon"
)

type config struct {
	dir             string
	records         int64
	epochEvery      int64
	checkpointEvery int64
	fileRecords     int64
	origin          string
	seed            string
	witnessSeed     string
	proofs          bool
	fault           string
}

func main() {
	var c config
	var fixtures string
	flag.StringVar(&c.dir, "dir", "", "output directory")
	flag.Int64Var(&c.records, "records", 300, "records in the log")
	flag.Int64Var(&c.epochEvery, "epoch-every", 0, "a key_epoch every K records (0: the genesis epoch only)")
	flag.Int64Var(&c.checkpointEvery, "checkpoint-every", 10, "a checkpoint every C records")
	flag.Int64Var(&c.fileRecords, "file-records", 100, "records a file")
	flag.StringVar(&c.origin, "origin", "relaywatch.test/audit", "the log's origin (the key name)")
	flag.StringVar(&c.seed, "seed", "gogen", "seed of the audit keys")
	flag.StringVar(&c.witnessSeed, "witness-seed", "", "cosign the last checkpoint with a witness key from this seed")
	flag.BoolVar(&c.proofs, "proofs", false, "write proofs as relaywatch audit prove/consistency --json print them")
	flag.StringVar(&c.fault, "fault", "", "expired-key, bad-cert, bad-root or tampered-record")
	flag.StringVar(&fixtures, "fixtures", "", "write the fixture sets of tests/audit/fixtures into this directory")
	flag.Parse()
	var err error
	switch {
	case fixtures != "" && c.dir == "":
		err = writeFixtures(fixtures)
	case fixtures == "" && c.dir != "" && flag.NArg() == 0:
		var vkey string
		if vkey, err = generate(c); err == nil {
			fmt.Println(vkey)
		}
	default:
		err = errors.New("give --dir DIR or --fixtures DIR")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gogen: %v\n", err)
		os.Exit(1)
	}
}

// fixtureSets are the logs committed under tests/audit/fixtures (see its
// README.md): one good log with proofs and a cosignature, and small logs
// with one fault each.
func fixtureSets(root string) []config {
	good := config{dir: filepath.Join(root, "go-generated"), records: 300, epochEvery: 150,
		checkpointEvery: 10, fileRecords: 128, origin: "relaywatch.test/audit", seed: "fixture",
		witnessSeed: "fixture", proofs: true}
	sets := []config{good}
	for _, f := range []string{"expired-key", "bad-cert", "bad-root", "tampered-record"} {
		sets = append(sets, config{dir: filepath.Join(root, "go-generated-bad", f), records: 40,
			epochEvery: 15, checkpointEvery: 5, fileRecords: 16, origin: "relaywatch.test/audit",
			seed: "fixture-" + f, fault: f})
	}
	return sets
}

func writeFixtures(root string) error {
	for _, c := range fixtureSets(root) {
		if _, err := generate(c); err != nil {
			return fmt.Errorf("%s: %v", c.dir, err)
		}
	}
	return nil
}

// ---- keys ---------------------------------------------------------------

type auditKey struct {
	epoch  int64
	priv   ed25519.PrivateKey
	pub    ed25519.PublicKey
	pubB64 string
	keyID  string
	vkey   string
	signer note.Signer
}

func seedKey(label string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte(label))
	return ed25519.NewKeyFromSeed(s[:])
}

func newAuditKey(c config, epoch int64) (auditKey, error) {
	k := auditKey{epoch: epoch, priv: seedKey("gogen key " + c.seed + " " + strconv.FormatInt(epoch, 10))}
	k.pub = k.priv.Public().(ed25519.PublicKey)
	k.pubB64 = base64.StdEncoding.EncodeToString(k.pub)
	k.keyID = auditcommon.KeyID(k.pub)
	var err error
	k.vkey, k.signer, err = auditcommon.Ed25519NoteKey(c.origin, k.priv)
	return k, err
}

// ---- the log ------------------------------------------------------------

// record is one line; the member order is the format's.
type record struct {
	Seq           int64           `json:"seq"`
	TS            string          `json:"ts"`
	Kind          string          `json:"kind"`
	CorrelationID string          `json:"correlation_id"`
	Content       json.RawMessage `json:"content"`
}

type keyEpochContent struct {
	Epoch         int64  `json:"epoch"`
	PublicKey     string `json:"public_key"`
	KeyID         string `json:"key_id"`
	VKey          string `json:"vkey"`
	PreviousKeyID string `json:"previous_key_id,omitempty"`
	Cert          string `json:"cert,omitempty"`
}

type checkpointContent struct {
	Size  int64  `json:"size"`
	Root  string `json:"root"`
	Epoch int64  `json:"epoch"`
	KeyID string `json:"key_id"`
	Note  string `json:"note"`
}

type hashStore []tlog.Hash

func (s *hashStore) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(*s)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = (*s)[x]
	}
	return out, nil
}

type logWriter struct {
	c        config
	lines    [][]byte
	store    hashStore
	keys     []auditKey
	notes    map[int64]string // checkpoint size -> signed note
	lastNote string
	cpSizes  []int64
	faulted  bool
}

var baseTime = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func (w *logWriter) add(kind, corr string, content interface{}) error {
	seq := int64(len(w.lines))
	raw, err := json.Marshal(content)
	if err != nil {
		return err
	}
	jitter := int64(binary.BigEndian.Uint16(w.noise(seq, "ts")[:2]) % 200)
	ts := baseTime.Add(time.Duration(seq*250+jitter) * time.Millisecond)
	line, err := json.Marshal(record{Seq: seq, TS: ts.Format("2006-01-02T15:04:05.000Z"), Kind: kind,
		CorrelationID: corr, Content: raw})
	if err != nil {
		return err
	}
	hashes, err := tlog.StoredHashes(seq, line, &w.store)
	if err != nil {
		return err
	}
	w.store = append(w.store, hashes...)
	w.lines = append(w.lines, line)
	return nil
}

func (w *logWriter) noise(seq int64, what string) []byte {
	s := sha256.Sum256([]byte(fmt.Sprintf("gogen noise %s %d %s", w.c.seed, seq, what)))
	return s[:]
}

func (w *logWriter) keyEpoch(epoch int64) error {
	k, err := newAuditKey(w.c, epoch)
	if err != nil {
		return err
	}
	content := keyEpochContent{Epoch: epoch, PublicKey: k.pubB64, KeyID: k.keyID, VKey: k.vkey}
	if epoch > 0 {
		prev := w.keys[len(w.keys)-1]
		content.PreviousKeyID = prev.keyID
		msg := auditcommon.KeyCertMessage(w.c.origin, epoch, k.pubB64)
		by := prev.priv
		if w.c.fault == "bad-cert" && epoch == 1 {
			by = k.priv
			w.faulted = true
		}
		content.Cert = base64.StdEncoding.EncodeToString(ed25519.Sign(by, msg))
	}
	w.keys = append(w.keys, k)
	return w.add("key_epoch", "audit-key-"+strconv.FormatInt(epoch, 10), content)
}

func (w *logWriter) checkpoint() error {
	size := int64(len(w.lines))
	root, err := tlog.TreeHash(size, &w.store)
	if err != nil {
		return err
	}
	key := w.keys[len(w.keys)-1]
	if w.c.fault == "bad-root" && !w.faulted && size > 20 {
		if root, err = tlog.TreeHash(size-1, &w.store); err != nil {
			return err
		}
		w.faulted = true
	}
	if w.c.fault == "expired-key" && !w.faulted && key.epoch == 1 {
		key = w.keys[0]
		w.faulted = true
	}
	rootB64 := base64.StdEncoding.EncodeToString(root[:])
	text := w.c.origin + "\n" + strconv.FormatInt(size, 10) + "\n" + rootB64 + "\n"
	signed, err := note.Sign(&note.Note{Text: text}, key.signer)
	if err != nil {
		return err
	}
	w.notes[size] = string(signed)
	w.lastNote = string(signed)
	w.cpSizes = append(w.cpSizes, size)
	return w.add("checkpoint", "checkpoint-"+strconv.FormatInt(size, 10),
		checkpointContent{Size: size, Root: rootB64, Epoch: key.epoch, KeyID: key.keyID, Note: string(signed)})
}

// filler is a record of one of a few kinds, its text chosen so that JSON
// escapes (\", \\, \n, \t, \u003c, \u0001) and raw UTF-8 (é, —, →, 𝄞) occur.
func (w *logWriter) filler() error {
	seq := int64(len(w.lines))
	z := w.noise(seq, "filler")
	corr := fmt.Sprintf("cyc-%x", z[4:8])
	if z[8]%7 == 0 {
		corr = ""
	}
	switch z[0] % 4 {
	case 0:
		return w.add("cycle", corr, struct {
			Cycle      int64  `json:"cycle"`
			Verdict    string `json:"verdict"`
			Checks     int    `json:"checks"`
			DurationMS int    `json:"duration_ms"`
		}{seq * 3, "pass", 12 + int(z[1]%5), int(binary.BigEndian.Uint16(z[2:4]) % 900)})
	case 1:
		return w.add("finding", corr, struct {
			Invariant string   `json:"invariant"`
			Severity  string   `json:"severity"`
			Evidence  string   `json:"evidence"`
			Blocks    []uint64 `json:"blocks"`
		}{"NONCE_MONOTONIC", "warn",
			fmt.Sprintf("nonce %d → %d (gap) «relayer-é» said \"retry\\later\"\n\tnext <%d> & done \x01 𝄞 —",
				z[1], int(z[1])+2, z[2]),
			[]uint64{uint64(seq) * 7, uint64(seq)*7 + 1}})
	case 2:
		return w.add("halt_published", corr, struct {
			HaltID    string `json:"halt_id"`
			Invariant string `json:"invariant"`
			StreamID  string `json:"stream_id"`
			Enforce   bool   `json:"enforce"`
			Reason    string `json:"reason"`
		}{fmt.Sprintf("%x", z[10:26]), "SUPPLY_CONSERVED", fmt.Sprintf("%d-0", 1796300000000+seq),
			z[9]%2 == 0, "minted 1000000000000000000 > locked 0"})
	default:
		return w.add("config_reload", corr, struct {
			Path    string   `json:"path"`
			Changed []string `json:"changed"`
			Nested  struct {
				Empty  map[string]int `json:"empty"`
				Null   *int           `json:"null"`
				Number float64        `json:"number"`
			} `json:"nested"`
		}{Path: "/etc/relaywatch/relaywatch.ini", Changed: []string{"watchdog.interval_ms", "alert.slack_url"},
			Nested: struct {
				Empty  map[string]int `json:"empty"`
				Null   *int           `json:"null"`
				Number float64        `json:"number"`
			}{Empty: map[string]int{}, Number: -1.5e-7}})
	}
}

func generate(c config) (string, error) {
	if c.records < 2 || c.checkpointEvery < 1 || c.fileRecords < 1 || c.epochEvery < 0 {
		return "", errors.New("want --records >= 2, --checkpoint-every >= 1, --file-records >= 1, --epoch-every >= 0")
	}
	switch c.fault {
	case "", "expired-key", "bad-cert", "bad-root", "tampered-record":
	default:
		return "", fmt.Errorf("unknown fault %q", c.fault)
	}
	w := &logWriter{c: c, notes: map[int64]string{}}
	for seq := int64(0); seq < c.records; seq++ {
		var err error
		switch {
		case seq == 0 || c.epochEvery > 0 && seq%c.epochEvery == 0:
			err = w.keyEpoch(int64(len(w.keys)))
		case seq%c.checkpointEvery == 0 || seq == c.records-1:
			err = w.checkpoint()
		default:
			err = w.filler()
		}
		if err != nil {
			return "", err
		}
	}
	if c.fault == "tampered-record" {
		// A filler record between two checkpoints: change "pass" to "fail"
		// or "warn" to "wart"; its leaf changes, every later root with it.
		for i := int64(len(w.lines)) / 2; i < int64(len(w.lines)); i++ {
			line := w.lines[i]
			if j := bytes.Index(line, []byte(`"pass"`)); j >= 0 {
				line[j+1] = 'f'
				w.faulted = true
				break
			}
			if j := bytes.Index(line, []byte(`"warn"`)); j >= 0 {
				line[j+4] = 't'
				w.faulted = true
				break
			}
		}
	}
	if c.fault != "" && !w.faulted {
		return "", fmt.Errorf("fault %q found no place in this log (more records or epochs?)", c.fault)
	}
	return w.write()
}

func (w *logWriter) write() (string, error) {
	c := w.c
	if err := os.RemoveAll(c.dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(c.dir, "audit"), 0o755); err != nil {
		return "", err
	}
	for first := int64(0); first < int64(len(w.lines)); first += c.fileRecords {
		var b bytes.Buffer
		for i := first; i < first+c.fileRecords && i < int64(len(w.lines)); i++ {
			b.Write(w.lines[i])
			b.WriteByte('\n')
		}
		name := filepath.Join(c.dir, "audit", fmt.Sprintf("audit-%012d.jsonl", first))
		if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
			return "", err
		}
	}
	genesis := w.keys[0]
	files := map[string]string{
		"audit.key.pub": "relaywatch-ed25519-public-v1 " + genesis.pubB64 + "\n",
		// where relaywatch keeps it too (its default --pubkey)
		"audit/audit.key.pub": "relaywatch-ed25519-public-v1 " + genesis.pubB64 + "\n",
		"vkey":                genesis.vkey + "\n",
		"checkpoint.note":     w.lastNote,
	}
	var all strings.Builder
	for _, k := range w.keys {
		all.WriteString(k.vkey + "\n")
	}
	files["vkeys"] = all.String()
	if c.witnessSeed != "" {
		wvkey, cosigned, err := w.cosign()
		if err != nil {
			return "", err
		}
		files["witness.vkey"] = wvkey + "\n"
		files["checkpoint.cosigned.note"] = cosigned
	}
	if c.proofs {
		proofs, err := w.proofs()
		if err != nil {
			return "", err
		}
		for name, data := range proofs {
			files[filepath.Join("proofs", name)] = data
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(c.dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, []byte(files[n]), 0o644); err != nil {
			return "", err
		}
	}
	return genesis.vkey, nil
}

// cosign adds a C2SP cosignature/v1 by the witness to the last checkpoint:
// signature line "— <name> base64(key hash || time (8 bytes, big endian) ||
// Ed25519 signature)", the key hash SHA-256(name "\n" 0x04 pk)[:4], the
// signature over "cosignature/v1\ntime <T>\n" and the checkpoint text.
func (w *logWriter) cosign() (string, string, error) {
	const name = "witness.test/w1"
	priv := seedKey("gogen witness " + w.c.witnessSeed)
	pub := priv.Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return "", "", err
	}
	text := w.lastNote[:strings.Index(w.lastNote, "\n\n")+1]
	t := uint64(baseTime.Unix()) + uint64(len(w.lines))
	sig := make([]byte, 0, 76)
	sig = binary.BigEndian.AppendUint32(sig, auditcommon.CosignatureKeyHash(name, pub))
	sig = binary.BigEndian.AppendUint64(sig, t)
	sig = append(sig, ed25519.Sign(priv, auditcommon.CosignatureMessage(t, text))...)
	cosigned := w.lastNote + "— " + name + " " + base64.StdEncoding.EncodeToString(sig) + "\n"
	return vkey, cosigned, nil
}

// proofs are inclusion proofs of a few records (the first, both sides of
// each epoch change, the last one covered) in the last checkpoint and in
// the first checkpoint after them, and consistency proofs from a few sizes
// to the last checkpoint: the JSON relaywatch prints, members in the
// format's order.
func (w *logWriter) proofs() (map[string]string, error) {
	out := map[string]string{}
	last := w.cpSizes[len(w.cpSizes)-1]
	idx := []int64{0, 1, last / 2, last - 1}
	for _, k := range w.keys[1:] {
		s := k.epoch * w.c.epochEvery
		idx = append(idx, s-1, s, s+1)
	}
	enc := func(v interface{}) (string, error) {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetIndent("", "  ")
		err := e.Encode(v)
		return b.String(), err
	}
	b64s := func(hs []tlog.Hash) []string {
		s := []string{}
		for _, h := range hs {
			s = append(s, base64.StdEncoding.EncodeToString(h[:]))
		}
		return s
	}
	for _, i := range idx {
		// The last checkpoint, and the first one covering i.
		sizes := []int64{last}
		for _, s := range w.cpSizes {
			if s > i {
				if s != last {
					sizes = append(sizes, s)
				}
				break
			}
		}
		for _, size := range sizes {
			p, err := tlog.ProveRecord(size, i, &w.store)
			if err != nil {
				return nil, err
			}
			root, err := tlog.TreeHash(size, &w.store)
			if err != nil {
				return nil, err
			}
			js, err := enc(struct {
				Index      int64    `json:"index"`
				Record     string   `json:"record"`
				TreeSize   int64    `json:"tree_size"`
				Root       string   `json:"root"`
				Checkpoint string   `json:"checkpoint"`
				Proof      []string `json:"proof"`
			}{i, string(w.lines[i]), size, base64.StdEncoding.EncodeToString(root[:]), w.notes[size], b64s(p)})
			if err != nil {
				return nil, err
			}
			out[fmt.Sprintf("prove-%06d-%06d.json", i, size)] = js
		}
	}
	from := []int64{1, 2, 7, w.cpSizes[0], last / 2, last - 1, last}
	for _, k := range w.keys[1:] {
		from = append(from, k.epoch*w.c.epochEvery, k.epoch*w.c.epochEvery+1)
	}
	for _, m := range from {
		p, err := tlog.ProveTree(last, m, &w.store)
		if err != nil {
			return nil, err
		}
		mr, err := tlog.TreeHash(m, &w.store)
		if err != nil {
			return nil, err
		}
		lr, err := tlog.TreeHash(last, &w.store)
		if err != nil {
			return nil, err
		}
		js, err := enc(struct {
			From       int64    `json:"from"`
			FromRoot   string   `json:"from_root"`
			To         int64    `json:"to"`
			ToRoot     string   `json:"to_root"`
			Checkpoint string   `json:"checkpoint"`
			Proof      []string `json:"proof"`
		}{m, base64.StdEncoding.EncodeToString(mr[:]), last, base64.StdEncoding.EncodeToString(lr[:]),
			w.notes[last], b64s(p)})
		if err != nil {
			return nil, err
		}
		out[fmt.Sprintf("consistency-%06d-%06d.json", m, last)] = js
	}
	return out, nil
}
