package main

// tlogcheck prove, consistency, cosig, note: one artifact each, checked
// against the verifier keys given.

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// knownRoots is a --roots file: tree size -> root, as `log --roots-out`
// wrote it.
type knownRoots map[int64]tlog.Hash

func loadRoots(path string) (knownRoots, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	roots := knownRoots{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s line %d: want SIZE ROOT", path, line)
		}
		size, err := parseDecimal(fields[0])
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %v", path, line, err)
		}
		if roots[size], err = decodeHash(fields[1]); err != nil {
			return nil, fmt.Errorf("%s line %d: %v", path, line, err)
		}
	}
	return roots, sc.Err()
}

// check requires size to be known with this root (when roots were given).
func (k knownRoots) check(what string, size int64, root tlog.Hash) error {
	if k == nil {
		return nil
	}
	want, ok := k[size]
	if !ok {
		return fmt.Errorf("%s: the log's roots list no tree of size %d", what, size)
	}
	if want != root {
		return fmt.Errorf("%s: root %s for size %d, but the log's records give %s", what, b64(root), size, b64(want))
	}
	return nil
}

// keyedCommand is what prove, consistency, cosig and note share: the flags
// --vkey and --vkeys (the keys a checkpoint may be signed by), flags of
// their own on fs, and one input.
type keyedCommand struct {
	fs *flag.FlagSet
	vf verifierFlags
}

func newKeyedCommand(name string) *keyedCommand {
	c := &keyedCommand{fs: newFlags(name)}
	c.vf.register(c.fs)
	return c
}

// keys parses args and loads the verifier keys.
func (c *keyedCommand) keys(args []string) ([]note.Verifier, error) {
	if err := parseFlags(c.fs, args); err != nil {
		return nil, err
	}
	return c.vf.load()
}

// checkpoint reads the input, a checkpoint that must be signed by one of
// vers; it returns the input's name too.
func (c *keyedCommand) checkpoint(vers []note.Verifier) (*note.Note, checkpoint, string, error) {
	data, src, err := oneInput(c.fs)
	if err != nil {
		return nil, checkpoint{}, "", err
	}
	n, cp, err := openCheckpoint(string(data), vers)
	if err != nil {
		return nil, checkpoint{}, "", errorf(err, "%s", src)
	}
	return n, cp, src, nil
}

// proofInput reads the flags and the JSON object of prove and consistency,
// which must have exactly the members given.
func proofInput(name string, args []string, members ...string) (*jsonObject, []note.Verifier, knownRoots, error) {
	c := newKeyedCommand(name)
	rootsPath := c.fs.String("roots", "", "a file of \"SIZE ROOT\" lines (log --roots-out) the proof's roots must agree with")
	vers, err := c.keys(args)
	if err != nil {
		return nil, nil, nil, err
	}
	roots, err := loadRoots(*rootsPath)
	if err != nil {
		return nil, nil, nil, err
	}
	data, src, err := oneInput(c.fs)
	if err != nil {
		return nil, nil, nil, err
	}
	o, err := parseObject(data)
	if err == nil {
		err = o.wantKeys(false, members...)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %v", src, err)
	}
	return o, vers, roots, nil
}

// signedTree is the tree a proof leads to: its size and root, the members
// sizeName and rootName of the proof's JSON, with the proof's hashes and
// the note of its member "checkpoint", which must be signed by one of vers
// and be of that tree.
type signedTree struct {
	size  int64
	root  tlog.Hash
	proof []tlog.Hash
	note  *note.Note
}

func readSignedTree(o *jsonObject, vers []note.Verifier, sizeName, rootName string) (signedTree, error) {
	var t signedTree
	var err error
	if t.size, err = o.int(sizeName); err != nil {
		return t, err
	}
	if t.root, err = o.hash(rootName); err != nil {
		return t, err
	}
	text, err := o.str("checkpoint")
	if err != nil {
		return t, err
	}
	if t.proof, err = o.hashes("proof"); err != nil {
		return t, err
	}
	n, cp, err := openCheckpoint(text, vers)
	if err != nil {
		return t, errorf(err, "checkpoint")
	}
	if cp.Size != t.size || cp.Root != t.root {
		return t, fmt.Errorf("%s %d %s %s, but the checkpoint says size %d root %s",
			sizeName, t.size, rootName, b64(t.root), cp.Size, b64(cp.Root))
	}
	t.note = n
	return t, nil
}

func runProve(args []string, stdout io.Writer) error {
	o, vers, roots, err := proofInput("prove", args, "index", "record", "tree_size", "root", "checkpoint", "proof")
	if err != nil {
		return err
	}
	index, err := o.int("index")
	if err != nil {
		return err
	}
	record, err := o.str("record")
	if err != nil {
		return err
	}
	t, err := readSignedTree(o, vers, "tree_size", "root")
	if err != nil {
		return err
	}
	size, root, proof := t.size, t.root, t.proof
	if index >= size {
		return fmt.Errorf("index %d is not in a tree of size %d", index, size)
	}
	if err := roots.check("tree_size", size, root); err != nil {
		return err
	}
	if strings.Contains(record, "\n") {
		return errors.New("record holds a newline: a record is one line")
	}
	rec, err := parseObject([]byte(record))
	if err != nil {
		return errorf(err, "record")
	}
	seq, err := rec.int("seq")
	if err != nil {
		return errorf(err, "record")
	}
	if seq != index {
		return fmt.Errorf("the record's seq is %d, the proof's index %d", seq, index)
	}
	kind, _ := rec.str("kind")
	if err := tlog.CheckRecord(tlog.RecordProof(proof), size, root, index, tlog.RecordHash([]byte(record))); err != nil {
		return fmt.Errorf("inclusion proof of record %d in the tree of size %d (%d hashes): %v", index, size, len(proof), err)
	}
	fmt.Fprintf(stdout, "ok: record %d (%s) is in the tree of size %d root %s, signed by %s\n",
		index, kind, size, b64(root), sigNames(t.note.Sigs))
	return nil
}

func runConsistency(args []string, stdout io.Writer) error {
	o, vers, roots, err := proofInput("consistency", args, "from", "from_root", "to", "to_root", "checkpoint", "proof")
	if err != nil {
		return err
	}
	from, err := o.int("from")
	if err != nil {
		return err
	}
	fromRoot, err := o.hash("from_root")
	if err != nil {
		return err
	}
	t, err := readSignedTree(o, vers, "to", "to_root")
	if err != nil {
		return err
	}
	to, toRoot, proof := t.size, t.root, t.proof
	if from < 1 || from > to {
		return fmt.Errorf("from %d: want 1 <= from <= to (%d)", from, to)
	}
	if err := roots.check("from", from, fromRoot); err != nil {
		return err
	}
	if err := roots.check("to", to, toRoot); err != nil {
		return err
	}
	if err := tlog.CheckTree(tlog.TreeProof(proof), to, toRoot, from, fromRoot); err != nil {
		return fmt.Errorf("consistency proof from size %d to %d (%d hashes): %v", from, to, len(proof), err)
	}
	fmt.Fprintf(stdout, "ok: the tree of size %d root %s is a prefix of the tree of size %d root %s, signed by %s\n",
		from, b64(fromRoot), to, b64(toRoot), sigNames(t.note.Sigs))
	return nil
}

func runCosig(args []string, stdout io.Writer) error {
	c := newKeyedCommand("cosig")
	var witnesses stringList
	c.fs.Var(&witnesses, "witness", "a witness's Ed25519 verifier key whose cosignature/v1 must be there (repeatable)")
	vers, err := c.keys(args)
	if err != nil {
		return err
	}
	if len(witnesses) == 0 {
		return errors.New("no --witness WVKEY given")
	}
	var ws []witnessKey
	for _, w := range witnesses {
		k, err := parseWitness(w)
		if err != nil {
			return err
		}
		ws = append(ws, k)
	}
	n, cp, src, err := c.checkpoint(vers)
	if err != nil {
		return err
	}
	for _, w := range ws {
		t, err := checkCosignature(n, w)
		if err != nil {
			return errorf(err, "%s", src)
		}
		fmt.Fprintf(stdout, "ok: %s (size %d) cosigned by %s+%08x at %d (%s)\n", cp.Origin, cp.Size,
			w.name, w.cosHash, t, time.Unix(int64(t), 0).UTC().Format(time.RFC3339))
	}
	return nil
}

func runNote(args []string, stdout io.Writer) error {
	c := newKeyedCommand("note")
	vers, err := c.keys(args)
	if err != nil {
		return err
	}
	_, cp, _, err := c.checkpoint(vers)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %d %s\n", cp.Origin, cp.Size, b64(cp.Root))
	return nil
}
