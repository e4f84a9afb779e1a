// Package static serves the frontend's files so that a returning viewer
// downloads nothing and a new one as little as possible:
//
//   - content coding: each file is held raw and, where it pays, as brotli
//     ("br"), zstd and gzip; Negotiate picks by the request's
//     Accept-Encoding (q-values honoured; on a tie zstd, which browsers
//     decode fastest, then the smallest body) and every
//     coded response says "Vary: Accept-Encoding";
//   - validators: every response carries a strong ETag (one per coding)
//     and "Cache-Control: no-cache", so a revalidation costs a 304;
//   - fingerprints: the files named in Options.Fingerprint (the browser
//     peer) are also served at a content-hashed path, wasm/shoal.wasm at
//     wasm/shoal.<hash>.wasm, with "Cache-Control: public,
//     max-age=31536000, immutable", and every HTML page that names one
//     names the hashed path instead.
//
// Big files are compressed at build time: tools/precompress writes
// NAME.br, NAME.zst and NAME.gz beside NAME, and NAME.sha256 with the
// SHA-256 of NAME. New uses them when NAME.sha256 matches NAME, and else
// compresses NAME itself, quickly (zstd and gzip at their fast levels).
// Small files (the pages, scripts, styles) are compressed by New.
//
//	files, err := static.New(frontend.FS, static.Options{Fingerprint: []string{"wasm/shoal.wasm"}})
//	…
//	f, hashed, ok := files.Lookup(strings.TrimPrefix(r.URL.Path, "/"))
//	if ok {
//		f.Serve(w, r, hashed)
//	}
package static
