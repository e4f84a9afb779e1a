// Command precompress writes, beside each file it is given, its brotli,
// zstd and gzip copies (NAME.br, NAME.zst, NAME.gz) at their best
// compression, and NAME.sha256 with the SHA-256 of NAME, for the server to
// serve without compressing at start (see package signal/static, which
// uses the copies only while NAME.sha256 matches NAME). The Taskfile's
// build:wasm runs it on the browser peer:
//
//	go run ./tools/precompress frontend/wasm/shoal.wasm
//
// Brotli at quality 11 takes most of the time (tens of seconds for the
// peer); -brotli-quality trades size for time.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/shoal-live/shoal/signal/static"
)

func main() {
	quality := flag.Int("brotli-quality", brotli.BestCompression, "brotli quality, 0-11")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: precompress [-brotli-quality Q] FILE...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	for _, name := range flag.Args() {
		if err := precompress(name, *quality); err != nil {
			fmt.Fprintln(os.Stderr, "precompress:", err)
			os.Exit(1)
		}
	}
}

// precompress writes name's copies, each in the three codings at once;
// NAME.sha256 last, so that an interrupted run leaves copies the server
// ignores.
func precompress(name string, quality int) error {
	raw, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if err := os.Remove(name + static.SumSuffix); err != nil && !os.IsNotExist(err) {
		return err
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, len(static.Codings))
	sizes := make([]int, len(static.Codings))
	for i, c := range static.Codings {
		wg.Go(func() {
			var b []byte
			var err error
			if c.Name == static.Brotli {
				b, err = static.CompressBrotli(raw, quality)
			} else {
				b, err = static.Compress(c.Name, raw, static.Best)
			}
			if err == nil {
				err = writeFile(name+c.Suffix, b)
			}
			errs[i], sizes[i] = err, len(b)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if err := writeFile(name+static.SumSuffix, []byte(static.Sum(raw)+"  "+filepath.Base(name)+"\n")); err != nil {
		return err
	}
	fmt.Printf("%s: %d bytes;", name, len(raw))
	for i, c := range static.Codings {
		fmt.Printf(" %s %d (%.1f%%);", c.Name, sizes[i], 100*float64(sizes[i])/float64(len(raw)))
	}
	fmt.Printf(" %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// writeFile writes b to name through a temporary file, so that a reader
// never sees half a file. The temporary file's name starts with a dot, so
// that go:embed would leave it out were it left behind.
func writeFile(name string, b []byte) error {
	tmp := filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}
