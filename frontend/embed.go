// Package frontend holds Shoal's pages, scripts and styles, and the compiled
// browser peer, embedded for the server to serve. go:embed cannot reach
// above its package, so the embedding lives here, beside the files.
package frontend

import "embed"

// FS holds the pages (*.html, *.js), lib/, css/ and wasm/.
//
//go:embed *.html *.js lib css wasm
var FS embed.FS
