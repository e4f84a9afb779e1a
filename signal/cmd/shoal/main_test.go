package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefusedCommandLines: each of these must fail before the server
// starts or touches the data directory. A stray positional argument used
// to end flag parsing silently (`shoal 1 -data-dir x` ignored -data-dir
// and served from the default directory).
func TestRefusedCommandLines(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "stray argument", args: []string{"1", "-data-dir", "DIR"}, wantErr: `unexpected argument "1"`},
		{name: "stray argument after flags", args: []string{"-data-dir", "DIR", "extra"}, wantErr: `unexpected argument "extra"`},
		{name: "short key", args: []string{"-data-dir", "DIR", "-stream-keys", "live=short"}, wantErr: "fewer than 16"},
		{name: "one short key of two", args: []string{"-data-dir", "DIR", "-stream-keys", "a=0123456789abcdef,b=123"}, wantErr: `the key of "b"`},
		{name: "bad proxy", args: []string{"-data-dir", "DIR", "-trusted-proxies", "10.0.0.0/40"}, wantErr: "-trusted-proxies"},
		{name: "bad proxy header", args: []string{"-data-dir", "DIR", "-trusted-proxy-header", "X-Real-IP"}, wantErr: "-trusted-proxy-header"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.ReplaceAll(a, "DIR", dir)
			}
			stderr := os.Stderr
			devnull, _ := os.Open(os.DevNull)
			os.Stderr = devnull // the usage text
			err := run(args)
			os.Stderr = stderr
			devnull.Close()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("run(%q) = %v, want an error with %q", args, err, tc.wantErr)
			}
			if _, serr := os.Stat(dir); serr == nil {
				t.Errorf("the data directory was created")
			}
		})
	}
}

// TestLiveKeyKept: without -stream-keys the key of "live" is made once,
// kept private in the data directory and reused.
func TestLiveKeyKept(t *testing.T) {
	dir := t.TempDir()
	k1, path, err := liveKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, _, err := liveKey(dir)
	if err != nil || k1 != k2 || len(k1) < minKeyLen {
		t.Fatalf("keys %q then %q (%v)", k1, k2, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", fi, err)
	}
}
