// Package jsonhttp writes the server's JSON answers and reads its small
// JSON bodies, the same way for every API (the public one and the
// studio's): errors are {"error": "…"}, answers are never cached.
//
//	if err := jsonhttp.Read(w, r, &in); err != nil {
//		jsonhttp.Error(w, http.StatusBadRequest, err.Error())
//		return
//	}
//	jsonhttp.Write(w, http.StatusOK, out)
package jsonhttp

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// MaxBody bounds a body Read accepts.
const MaxBody = 64 << 10

// Error answers with a JSON error body, {"error": msg}.
func Error(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// Write answers v as JSON, never cached (it may hold a key).
func Write(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// Read decodes a small JSON body (at most MaxBody, no unknown fields)
// into v.
func Read(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad JSON body: %w", err)
	}
	return nil
}
