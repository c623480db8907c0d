// Checks an eStargz blob with the upstream reader (github.com/containerd/stargz-snapshotter/estargz),
// as a lazy-pulling snapshotter would: open it by its footer, verify the TOC against the given
// digest, then read every chunk of every regular file through the reader and check it against
// the chunk digest the verifier holds, and every file against its own digest.
//
//	estargz-verify <blob> <toc digest>   prints {"files":N,"chunks":M} or fails with the reason
package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"
)

func main() {
	if err := verify(os.Args[1], digest.Digest(os.Args[2])); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func verify(path string, tocDigest digest.Digest) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	r, err := estargz.Open(io.NewSectionReader(f, 0, st.Size()))
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	v, err := r.VerifyTOC(tocDigest)
	if err != nil {
		return fmt.Errorf("verify TOC: %w", err)
	}
	files, chunks := 0, 0
	seen := map[*estargz.TOCEntry]bool{}
	var walk func(dir string, e *estargz.TOCEntry) error
	walk = func(name string, e *estargz.TOCEntry) error {
		// A hard link's node is its target's entry: read (and count) it once, by the target's name.
		if e.Type == "reg" && e.Size > 0 && !seen[e] {
			seen[e] = true
			files++
			n, err := checkFile(r, v, e.Name, e)
			chunks += n
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		// Children in name order: the same walk, and the same first failure, every run.
		var names []string
		e.ForeachChild(func(base string, _ *estargz.TOCEntry) bool {
			names = append(names, base)
			return true
		})
		sort.Strings(names)
		for _, base := range names {
			child, _ := e.LookupChild(base)
			childName := base
			if name != "" {
				childName = name + "/" + base
			}
			if err := walk(childName, child); err != nil {
				return err
			}
		}
		return nil
	}
	root, ok := r.Lookup("")
	if !ok {
		return fmt.Errorf("no root directory")
	}
	if err := walk("", root); err != nil {
		return err
	}
	out, _ := json.Marshal(map[string]int{"files": files, "chunks": chunks})
	fmt.Println(string(out))
	return nil
}

func checkFile(r *estargz.Reader, v estargz.TOCEntryVerifier, name string, e *estargz.TOCEntry) (int, error) {
	sr, err := r.OpenFile(name)
	if err != nil {
		return 0, err
	}
	whole := sha256.New()
	chunks := 0
	for off := int64(0); off < e.Size; {
		ce, ok := r.ChunkEntryForOffset(name, off)
		if !ok {
			return chunks, fmt.Errorf("no chunk at offset %d", off)
		}
		size := ce.ChunkSize
		if size == 0 {
			size = e.Size - ce.ChunkOffset
		}
		buf := make([]byte, size)
		if _, err := sr.ReadAt(buf, ce.ChunkOffset); err != nil && err != io.EOF {
			return chunks, fmt.Errorf("read chunk at %d: %w", ce.ChunkOffset, err)
		}
		dv, err := v.Verifier(ce)
		if err != nil {
			return chunks, err
		}
		dv.Write(buf)
		if !dv.Verified() {
			return chunks, fmt.Errorf("chunk at %d does not match its digest", ce.ChunkOffset)
		}
		whole.Write(buf)
		chunks++
		off = ce.ChunkOffset + size
	}
	if got := digest.NewDigest(digest.SHA256, whole); got.String() != e.Digest {
		return chunks, fmt.Errorf("file digest %s, TOC says %s", got, e.Digest)
	}
	return chunks, nil
}
