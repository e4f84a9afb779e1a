// Package httplimit owns the server's HTTP limits, those that hold before
// a handler runs or around the costly ones: the http.Server's timeouts
// (ReadHeaderTimeout, IdleTimeout), every request body's size and read
// deadline (Body: MaxRequestBody, BodyReadTimeout), the open connections
// from one TCP peer (NewListener), and fallback chunk fetches per client
// address (ChunkFetches). Each refusal is a clear error answer and a log
// line, one per flood. The per-address limits use the address package
// clientip finds; the signaling limits are package rendezvous'.
//
//	hs := &http.Server{Handler: r, ReadHeaderTimeout: httplimit.ReadHeaderTimeout, IdleTimeout: httplimit.IdleTimeout}
//	r.Use(httplimit.Body(log))
//	chunks := httplimit.NewChunkFetches(log)
//	r.With(chunks.Limit).Get("/api/streams/{stream}/chunks/{seq}", handleChunk)
//	hs.Serve(httplimit.NewListener(ln, 128, strategy, log))
package httplimit
