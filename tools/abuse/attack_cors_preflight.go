package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// cors_preflight: not an attack but the check that hardening left WHIP
// usable from a browser on another origin (issue #12: a browser WHIP
// client could not publish at all): the preflight is answered with the
// methods and headers a WHIP client uses, and a refusal (wrong key) is
// readable by the page.
func init() {
	register(Attack{Name: "cors_preflight", Run: attackCORSPreflight})
}

func attackCORSPreflight(ctx context.Context, tg Target) (string, error) {
	const origin = "https://publisher.example"
	url := "http://" + tg.HTTP + "/api/whip/" + tg.Stream
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, url, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("preflight: %w", err)
	}
	resp.Body.Close()
	h := resp.Header
	limit := fmt.Sprintf("WHIP preflight from %s: %d, allow-origin %q, methods %q, headers %q, expose %q",
		origin, resp.StatusCode, h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Methods"),
		h.Get("Access-Control-Allow-Headers"), h.Get("Access-Control-Expose-Headers"))
	if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != origin ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(h.Get("Access-Control-Expose-Headers"), "Location") {
		return limit, fmt.Errorf("preflight not answered for a WHIP client")
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("v=0\r\n"))
	if err != nil {
		return "", err
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer not-the-key-not-the-key")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("post: %w", err)
	}
	resp.Body.Close()
	limit += fmt.Sprintf("; wrong key: %d, readable cross-origin: %t", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin") == origin)
	if resp.StatusCode != http.StatusUnauthorized {
		return limit, fmt.Errorf("wrong key answered %d", resp.StatusCode)
	}
	return limit, nil
}
