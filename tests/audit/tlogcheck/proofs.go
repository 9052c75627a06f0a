package main

// tlogcheck prove, consistency, cosig, note: one artifact each, checked
// against the verifier keys given.

import (
	"bufio"
	"errors"
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

// proofInput reads the flags and the JSON object of prove and consistency.
func proofInput(name string, args []string) (*jsonObject, []note.Verifier, knownRoots, string, error) {
	fs := newFlags(name)
	var vf verifierFlags
	vf.register(fs)
	rootsPath := fs.String("roots", "", "a file of \"SIZE ROOT\" lines (log --roots-out) the proof's roots must agree with")
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, nil, "", err
	}
	vers, err := vf.load()
	if err != nil {
		return nil, nil, nil, "", err
	}
	roots, err := loadRoots(*rootsPath)
	if err != nil {
		return nil, nil, nil, "", err
	}
	data, src, err := oneInput(fs)
	if err != nil {
		return nil, nil, nil, "", err
	}
	o, err := parseObject(data)
	if err != nil {
		return nil, nil, nil, "", fmt.Errorf("%s: %v", src, err)
	}
	return o, vers, roots, src, nil
}

func runProve(args []string, stdout io.Writer) error {
	o, vers, roots, src, err := proofInput("prove", args)
	if err != nil {
		return err
	}
	if err := o.wantKeys(false, "index", "record", "tree_size", "root", "checkpoint", "proof"); err != nil {
		return fmt.Errorf("%s: %v", src, err)
	}
	index, err := o.int("index")
	if err != nil {
		return err
	}
	record, err := o.str("record")
	if err != nil {
		return err
	}
	size, err := o.int("tree_size")
	if err != nil {
		return err
	}
	root, err := o.hash("root")
	if err != nil {
		return err
	}
	text, err := o.str("checkpoint")
	if err != nil {
		return err
	}
	proof, err := o.hashes("proof")
	if err != nil {
		return err
	}

	n, cp, err := openCheckpoint(text, vers)
	if err != nil {
		return errorf(err, "checkpoint")
	}
	if cp.Size != size || cp.Root != root {
		return fmt.Errorf("tree_size %d root %s, but the checkpoint says size %d root %s",
			size, b64(root), cp.Size, b64(cp.Root))
	}
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
		index, kind, size, b64(root), sigNames(n.Sigs))
	return nil
}

func runConsistency(args []string, stdout io.Writer) error {
	o, vers, roots, src, err := proofInput("consistency", args)
	if err != nil {
		return err
	}
	if err := o.wantKeys(false, "from", "from_root", "to", "to_root", "checkpoint", "proof"); err != nil {
		return fmt.Errorf("%s: %v", src, err)
	}
	from, err := o.int("from")
	if err != nil {
		return err
	}
	fromRoot, err := o.hash("from_root")
	if err != nil {
		return err
	}
	to, err := o.int("to")
	if err != nil {
		return err
	}
	toRoot, err := o.hash("to_root")
	if err != nil {
		return err
	}
	text, err := o.str("checkpoint")
	if err != nil {
		return err
	}
	proof, err := o.hashes("proof")
	if err != nil {
		return err
	}

	n, cp, err := openCheckpoint(text, vers)
	if err != nil {
		return errorf(err, "checkpoint")
	}
	if cp.Size != to || cp.Root != toRoot {
		return fmt.Errorf("to %d to_root %s, but the checkpoint says size %d root %s",
			to, b64(toRoot), cp.Size, b64(cp.Root))
	}
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
		from, b64(fromRoot), to, b64(toRoot), sigNames(n.Sigs))
	return nil
}

func runCosig(args []string, stdout io.Writer) error {
	fs := newFlags("cosig")
	var vf verifierFlags
	vf.register(fs)
	var witnesses stringList
	fs.Var(&witnesses, "witness", "a witness's Ed25519 verifier key whose cosignature/v1 must be there (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	vers, err := vf.load()
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
	data, src, err := oneInput(fs)
	if err != nil {
		return err
	}
	n, cp, err := openCheckpoint(string(data), vers)
	if err != nil {
		return errorf(err, "%s", src)
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
	fs := newFlags("note")
	var vf verifierFlags
	vf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	vers, err := vf.load()
	if err != nil {
		return err
	}
	data, src, err := oneInput(fs)
	if err != nil {
		return err
	}
	_, cp, err := openCheckpoint(string(data), vers)
	if err != nil {
		return errorf(err, "%s", src)
	}
	fmt.Fprintf(stdout, "%s %d %s\n", cp.Origin, cp.Size, b64(cp.Root))
	return nil
}
