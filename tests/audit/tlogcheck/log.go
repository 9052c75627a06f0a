package main

// tlogcheck log: the whole log, record by record.
//
// The files are `audit-<first seq, 12 digits or more>.jsonl` (a directory
// argument stands for the ones it holds, in order); every line is one record
// ending in \n, and the record's leaf is the line without that \n. What is
// checked:
//
//   - every line is a UTF-8 JSON object with exactly the members seq, ts,
//     kind, correlation_id, content, in that order; seq runs 0, 1, 2, ...
//     across the files and each file starts at the seq its name says; ts is
//     YYYY-MM-DDTHH:MM:SS.mmmZ; content is an object;
//   - the key chain: seq 0 is key_epoch 0 whose vkey is the --vkey given;
//     each later key_epoch is the next epoch, its key_id is BLAKE2b-256's
//     (docs/PROTOCOL.md section 3.1), its vkey is its public_key under the
//     log's origin, previous_key_id names the key before, and cert is that
//     previous key's Ed25519 signature over "relaywatch-audit-key/v1\n"
//     origin "\n" epoch "\n" public_key "\n"; no key comes back;
//   - every checkpoint: its note opens (note.Open) with the key of the epoch
//     in force, and only that key (a signature by an earlier epoch's key is
//     an expired key, alone or next to the right one); the note's text is a
//     checkpoint of the log's origin whose size and root are the record's;
//     size is the record's own seq; root is tlog.TreeHash over the leaves
//     tlog.RecordHash'ed from the lines before it; epoch and key_id are the
//     epoch in force.
//
// At least one checkpoint must be there (else nothing was signed). The last
// file may end in an incomplete line (a crash in the middle of a write):
// it is not a record, is reported, and is not an error.

import (
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"relaywatch.test/auditcommon"
)

var (
	fileNameRE = regexp.MustCompile(`^audit-([0-9]{12,})\.jsonl$`)
	tsRE       = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$`)
)

// epochKey is one audit key of the chain.
type epochKey struct {
	epoch    int64
	seq      int64 // the key_epoch record that brought it in
	pk       ed25519.PublicKey
	pkB64    string
	keyID    string
	vkey     string
	verifier note.Verifier
}

// logCheck is the state of the walk over the records.
type logCheck struct {
	genesis     string
	origin      string
	stored      []tlog.Hash // tlog's stored hashes, in StoredHashIndex order
	n           int64       // records so far
	epochs      []epochKey
	checkpoints int64
	lastCP      checkpoint
	lastCPSeq   int64
	roots       io.Writer // "SIZE ROOT" per tree size, or nil
	torn        int       // bytes of an incomplete last line, ignored
}

// ReadHashes makes logCheck the tlog.HashReader over what it stored.
func (l *logCheck) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(l.stored)) {
			return nil, fmt.Errorf("stored hash %d is not there (%d stored)", x, len(l.stored))
		}
		out[i] = l.stored[x]
	}
	return out, nil
}

func runLog(args []string, stdout io.Writer) error {
	fs := newFlags("log")
	var vf verifierFlags
	vf.register(fs)
	vkeysOut := fs.String("vkeys-out", "", "write every epoch's verifier key here once the chain verifies")
	rootsOut := fs.String("roots-out", "", "write \"SIZE ROOT\" for every tree size 1..records here")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(vf.vkeys) != 1 || vf.vkeysFile != "" {
		return errors.New("log needs exactly one --vkey: the genesis (epoch 0) key")
	}
	ver, err := note.NewVerifier(vf.vkeys[0])
	if err != nil {
		return fmt.Errorf("--vkey %q: %v", vf.vkeys[0], err)
	}
	files, err := logFiles(fs)
	if err != nil {
		return err
	}
	l := &logCheck{genesis: vf.vkeys[0], origin: ver.Name()}
	var rootsFile *os.File
	if *rootsOut != "" {
		if rootsFile, err = os.Create(*rootsOut); err != nil {
			return err
		}
		defer rootsFile.Close()
		l.roots = rootsFile
	}
	for i, f := range files {
		if err := l.file(f, i == len(files)-1); err != nil {
			return err
		}
	}
	if l.n == 0 {
		return errors.New("the log has no record")
	}
	if l.checkpoints == 0 {
		return fmt.Errorf("%d records but no checkpoint: nothing in the log is signed", l.n)
	}
	if rootsFile != nil {
		if err := rootsFile.Close(); err != nil {
			return err
		}
	}
	if *vkeysOut != "" {
		var b strings.Builder
		for _, e := range l.epochs {
			b.WriteString(e.vkey + "\n")
		}
		if err := os.WriteFile(*vkeysOut, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	full, err := tlog.TreeHash(l.n, l)
	if err != nil {
		return err
	}
	var at []string
	for _, e := range l.epochs {
		at = append(at, strconv.FormatInt(e.seq, 10))
	}
	fmt.Fprintf(stdout, "ok: %d records in %d files, %d checkpoints, %d epochs (key_epoch at seq %s), origin %s\n",
		l.n, len(files), l.checkpoints, len(l.epochs), strings.Join(at, ","), l.origin)
	fmt.Fprintf(stdout, "last checkpoint: seq %d size %d root %s (epoch %d)\n",
		l.lastCPSeq, l.lastCP.Size, b64(l.lastCP.Root), len(l.epochs)-1)
	fmt.Fprintf(stdout, "whole log: size %d root %s; records from seq %d on (%d) are not under a signature yet\n",
		l.n, b64(full), l.lastCP.Size, l.n-l.lastCP.Size)
	if l.torn > 0 {
		fmt.Fprintf(stdout, "incomplete: the last file ends in %d bytes without a newline (a write cut short), not a record\n", l.torn)
	}
	return nil
}

// logFiles expands the arguments into log files in seq order.
func logFiles(fs *flag.FlagSet) ([]string, error) {
	if fs.NArg() == 0 {
		return nil, errors.New("no log file or directory given")
	}
	var files []string
	for _, a := range fs.Args() {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		ents, err := os.ReadDir(a)
		if err != nil {
			return nil, err
		}
		var in []string
		for _, e := range ents {
			if fileNameRE.MatchString(e.Name()) {
				in = append(in, filepath.Join(a, e.Name()))
			}
		}
		if len(in) == 0 {
			return nil, fmt.Errorf("%s holds no audit-<seq>.jsonl file", a)
		}
		sort.Slice(in, func(i, j int) bool { return fileFirstSeq(in[i]) < fileFirstSeq(in[j]) })
		files = append(files, in...)
	}
	return files, nil
}

// fileFirstSeq is the seq a log file's name says, or -1.
func fileFirstSeq(path string) int64 {
	m := fileNameRE.FindStringSubmatch(filepath.Base(path))
	if m == nil {
		return -1
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || fmt.Sprintf("%012d", n) != m[1] {
		return -1
	}
	return n
}

func (l *logCheck) file(path string, last bool) error {
	first := fileFirstSeq(path)
	if first < 0 {
		return fmt.Errorf("%s: not a log file name (audit-<first seq, 12 digits zero padded>.jsonl)", path)
	}
	if first != l.n {
		return fmt.Errorf("%s: the file starts at seq %d but the next record is seq %d (a file missing, out of order, or misnamed)",
			path, first, l.n)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return fmt.Errorf("%s: empty file", path)
	}
	lines := strings.SplitAfter(string(data), "\n")
	if tail := lines[len(lines)-1]; tail != "" {
		// A write cut short by a crash: not a record yet, and under no
		// checkpoint; tolerated at the very end of the log only.
		if !last {
			return fmt.Errorf("%s: the last line does not end in a newline, and a later file follows", path)
		}
		l.torn = len(tail)
	}
	lines = lines[:len(lines)-1] // the empty string after the final \n, or the torn tail
	for i, line := range lines {
		rec := []byte(strings.TrimSuffix(line, "\n"))
		if err := l.record(rec); err != nil {
			return fmt.Errorf("%s line %d (seq %d): %v", path, i+1, l.n, err)
		}
	}
	return nil
}

// record checks one record and adds its leaf.
func (l *logCheck) record(rec []byte) error {
	seq := l.n
	o, err := parseObject(rec)
	if err != nil {
		return err
	}
	if err := o.wantKeys(true, "seq", "ts", "kind", "correlation_id", "content"); err != nil {
		return err
	}
	got, err := o.int("seq")
	if err != nil {
		return err
	}
	if got != seq {
		return fmt.Errorf("seq is %d, want %d", got, seq)
	}
	ts, err := o.str("ts")
	if err != nil {
		return err
	}
	if _, perr := time.Parse("2006-01-02T15:04:05.000Z", ts); !tsRE.MatchString(ts) || perr != nil {
		return fmt.Errorf("ts %q is not YYYY-MM-DDTHH:MM:SS.mmmZ", ts)
	}
	kind, err := o.str("kind")
	if err != nil {
		return err
	}
	if kind == "" {
		return errors.New("kind is empty")
	}
	if _, err := o.str("correlation_id"); err != nil {
		return err
	}
	content, err := parseObject(o.vals["content"])
	if err != nil {
		return fmt.Errorf("content: %v", err)
	}
	if seq == 0 && kind != "key_epoch" {
		return fmt.Errorf("the first record is a %q, not the genesis key_epoch", kind)
	}
	switch kind {
	case "key_epoch":
		err = l.keyEpoch(seq, content)
	case "checkpoint":
		err = l.checkpoint(seq, content)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", kind, err)
	}

	hashes, err := tlog.StoredHashes(seq, rec, l)
	if err != nil {
		return err
	}
	if int64(len(l.stored)) != tlog.StoredHashIndex(0, seq) {
		return fmt.Errorf("internal: %d hashes stored before record %d", len(l.stored), seq)
	}
	l.stored = append(l.stored, hashes...)
	l.n++
	if l.roots != nil {
		root, err := tlog.TreeHash(l.n, l)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(l.roots, "%d %s\n", l.n, b64(root)); err != nil {
			return err
		}
	}
	return nil
}

func (l *logCheck) keyEpoch(seq int64, c *jsonObject) error {
	epoch, err := c.int("epoch")
	if err != nil {
		return err
	}
	want := int64(len(l.epochs))
	if epoch != want {
		return fmt.Errorf("epoch %d, want %d (epochs go 0, 1, 2, ... with no gap)", epoch, want)
	}
	if epoch == 0 {
		err = c.wantKeys(false, "epoch", "public_key", "key_id", "vkey")
	} else {
		err = c.wantKeys(false, "epoch", "public_key", "key_id", "vkey", "previous_key_id", "cert")
	}
	if err != nil {
		return err
	}
	e := epochKey{epoch: epoch, seq: seq}
	if e.pkB64, err = c.str("public_key"); err != nil {
		return err
	}
	pk, err := decodeB64(e.pkB64, ed25519.PublicKeySize)
	if err != nil {
		return fmt.Errorf("public_key: %v", err)
	}
	e.pk = ed25519.PublicKey(pk)
	if e.keyID, err = c.str("key_id"); err != nil {
		return err
	}
	if id := auditcommon.KeyID(pk); e.keyID != id {
		return fmt.Errorf("key_id %q is not the key's (BLAKE2b-256 of public_key: %s)", e.keyID, id)
	}
	if e.vkey, err = c.str("vkey"); err != nil {
		return err
	}
	wantVkey, err := note.NewEd25519VerifierKey(l.origin, e.pk)
	if err != nil {
		return err
	}
	if e.vkey != wantVkey {
		return fmt.Errorf("vkey %q is not public_key under the origin %q (%s)", e.vkey, l.origin, wantVkey)
	}
	if e.verifier, err = note.NewVerifier(e.vkey); err != nil {
		return fmt.Errorf("vkey: %v", err)
	}
	for _, old := range l.epochs {
		if old.pkB64 == e.pkB64 {
			return fmt.Errorf("epoch %d brings back the key of epoch %d", epoch, old.epoch)
		}
	}
	if epoch == 0 {
		if seq != 0 {
			return fmt.Errorf("epoch 0 at seq %d: the genesis key_epoch is seq 0", seq)
		}
		if e.vkey != l.genesis {
			return fmt.Errorf("the genesis key is %s, not the pinned --vkey %s", e.vkey, l.genesis)
		}
		l.epochs = append(l.epochs, e)
		return nil
	}
	prev := l.epochs[len(l.epochs)-1]
	prevID, err := c.str("previous_key_id")
	if err != nil {
		return err
	}
	if prevID != prev.keyID {
		return fmt.Errorf("previous_key_id %q, but epoch %d's key is %s", prevID, prev.epoch, prev.keyID)
	}
	certB64, err := c.str("cert")
	if err != nil {
		return err
	}
	cert, err := decodeB64(certB64, ed25519.SignatureSize)
	if err != nil {
		return fmt.Errorf("cert: %v", err)
	}
	if !ed25519.Verify(prev.pk, auditcommon.KeyCertMessage(l.origin, epoch, e.pkB64), cert) {
		return fmt.Errorf("cert does not verify under epoch %d's key %s", prev.epoch, prev.keyID)
	}
	l.epochs = append(l.epochs, e)
	return nil
}

func (l *logCheck) checkpoint(seq int64, c *jsonObject) error {
	if err := c.wantKeys(false, "size", "root", "epoch", "key_id", "note"); err != nil {
		return err
	}
	cur := l.epochs[len(l.epochs)-1]
	text, err := c.str("note")
	if err != nil {
		return err
	}
	// The signature first: a checkpoint by an expired key fails as such,
	// whatever epoch it claims.
	expired := func(sigs []note.Signature) error {
		for _, s := range sigs {
			for _, old := range l.epochs[:len(l.epochs)-1] {
				if s.Name == old.verifier.Name() && s.Hash == old.verifier.KeyHash() {
					return fmt.Errorf("signed by the expired key of epoch %d (%s, key_id %s): epoch %d (key_id %s, since seq %d) is in force",
						old.epoch, sigName(s), old.keyID, cur.epoch, cur.keyID, cur.seq)
				}
			}
		}
		return nil
	}
	n, err := note.Open([]byte(text), note.VerifierList(cur.verifier))
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		if e := expired(unverified.Note.UnverifiedSigs); e != nil {
			return e
		}
		return fmt.Errorf("the note is not signed by epoch %d's key %s+%08x (signatures: %s)",
			cur.epoch, cur.verifier.Name(), cur.verifier.KeyHash(), sigNames(unverified.Note.UnverifiedSigs))
	case errors.As(err, &invalid):
		return fmt.Errorf("the note's signature by epoch %d's key %s+%08x does not verify",
			cur.epoch, invalid.Name, invalid.Hash)
	case err != nil:
		return fmt.Errorf("note: not a valid signed note: %v", err)
	}
	if e := expired(n.UnverifiedSigs); e != nil {
		return fmt.Errorf("besides epoch %d's signature, %v", cur.epoch, e)
	}
	cp, err := parseCheckpoint(n.Text)
	if err != nil {
		return fmt.Errorf("note: %v", err)
	}
	if cp.Origin != l.origin {
		return fmt.Errorf("the note's origin is %q, the log's is %q", cp.Origin, l.origin)
	}
	size, err := c.int("size")
	if err != nil {
		return err
	}
	if size != seq {
		return fmt.Errorf("size %d, but a checkpoint covers every record before it: want its own seq %d", size, seq)
	}
	if cp.Size != size {
		return fmt.Errorf("the note says size %d, the record %d", cp.Size, size)
	}
	root, err := c.hash("root")
	if err != nil {
		return err
	}
	if cp.Root != root {
		return fmt.Errorf("the note says root %s, the record %s", b64(cp.Root), b64(root))
	}
	th, err := tlog.TreeHash(size, l)
	if err != nil {
		return err
	}
	if th != root {
		return fmt.Errorf("root %s is not the tree of the records 0..%d: tlog.TreeHash gives %s",
			b64(root), size-1, b64(th))
	}
	epoch, err := c.int("epoch")
	if err != nil {
		return err
	}
	if epoch != cur.epoch {
		return fmt.Errorf("epoch %d, but epoch %d is in force (since seq %d)", epoch, cur.epoch, cur.seq)
	}
	id, err := c.str("key_id")
	if err != nil {
		return err
	}
	if id != cur.keyID {
		return fmt.Errorf("key_id %q, but epoch %d's key is %s", id, cur.epoch, cur.keyID)
	}
	l.checkpoints++
	l.lastCP = cp
	l.lastCPSeq = seq
	return nil
}

func sigName(s note.Signature) string { return fmt.Sprintf("%s+%08x", s.Name, s.Hash) }
