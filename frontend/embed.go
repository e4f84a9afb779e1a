// Package frontend holds Shoal's pages, scripts and styles, and the compiled
// browser peer, embedded for the server to serve. go:embed cannot reach
// above its package, so the embedding lives here, beside the files.
package frontend

import "embed"

// FS holds the pages (*.html, *.js), lib/, css/ and wasm/: the browser
// peer shoal.wasm with its build-time brotli, zstd and gzip copies
// (shoal.wasm.br, .zst, .gz and the .sha256 they were made from; see
// package signal/static), and wasm_exec.js.
//
//go:embed *.html *.js lib css wasm
var FS embed.FS
