package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/bits"

	"github.com/andybalholm/brotli"
	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Content codings this package produces.
const (
	Brotli = "br"
	Zstd   = "zstd"
	Gzip   = "gzip"
)

// Codings lists the content codings, with the file suffix a precompressed
// copy carries.
var Codings = []struct{ Name, Suffix string }{
	{Brotli, ".br"},
	{Zstd, ".zst"},
	{Gzip, ".gz"},
}

// SumSuffix is the suffix of the file holding the hex SHA-256 of the file
// its precompressed copies were made from.
const SumSuffix = ".sha256"

// Effort says how hard Compress works.
type Effort int

const (
	// Fast is for compressing at server start: tens of milliseconds per
	// megabyte (brotli at quality 5, zstd and gzip at their default
	// levels). For the frontend's scripts and styles, brotli at quality 11
	// would save about 5 KB in 56 and take 15 times as long.
	Fast Effort = iota
	// Best is for build time: brotli at quality 11 takes tens of seconds
	// for the wasm peer, and makes it 14% smaller than quality 5.
	Best
)

// Compress returns b in the content coding named coding.
func Compress(coding string, b []byte, effort Effort) ([]byte, error) {
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch coding {
	case Brotli:
		q := 5
		if effort == Best {
			q = brotli.BestCompression
		}
		return CompressBrotli(b, q)
	case Zstd:
		level := zstd.SpeedDefault
		if effort == Best {
			level = zstd.SpeedBestCompression
		}
		// At most an 8 MiB window, as RFC 9659 asks of zstd in HTTP:
		// browsers refuse larger ones.
		w, err = zstd.NewWriter(&buf, zstd.WithEncoderLevel(level), zstd.WithWindowSize(8<<20), zstd.WithEncoderConcurrency(1))
	case Gzip:
		if effort == Best {
			w, err = gzip.NewWriterLevel(&buf, gzip.BestCompression)
		} else {
			w, err = kgzip.NewWriterLevel(&buf, kgzip.DefaultCompression)
		}
	default:
		return nil, fmt.Errorf("static: unknown content coding %q", coding)
	}
	if err != nil {
		return nil, fmt.Errorf("static: %s: %w", coding, err)
	}
	if _, err := w.Write(b); err != nil {
		return nil, fmt.Errorf("static: %s: %w", coding, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("static: %s: %w", coding, err)
	}
	return buf.Bytes(), nil
}

// CompressBrotli returns b as brotli at quality 0 (fastest) to 11 (best).
// The window is just large enough for b (16 MiB at most): a larger one
// gains nothing and costs a small file most of its compression time.
func CompressBrotli(b []byte, quality int) ([]byte, error) {
	var buf bytes.Buffer
	lgwin := min(max(bits.Len(uint(len(b)))+1, 10), 24)
	w := brotli.NewWriterOptions(&buf, brotli.WriterOptions{Quality: quality, LGWin: lgwin})
	if _, err := w.Write(b); err != nil {
		return nil, fmt.Errorf("static: br: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("static: br: %w", err)
	}
	return buf.Bytes(), nil
}

// Decompress reverses Compress.
func Decompress(coding string, b []byte) ([]byte, error) {
	var r io.Reader
	switch coding {
	case Brotli:
		r = brotli.NewReader(bytes.NewReader(b))
	case Zstd:
		d, err := zstd.NewReader(bytes.NewReader(b), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("static: zstd: %w", err)
		}
		defer d.Close()
		r = d
	case Gzip:
		z, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("static: gzip: %w", err)
		}
		r = z
	default:
		return nil, fmt.Errorf("static: unknown content coding %q", coding)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("static: %s: %w", coding, err)
	}
	return out, nil
}

// Sum returns the hex SHA-256 of b, as a NAME.sha256 file holds it.
func Sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
