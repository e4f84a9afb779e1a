//go:build !js

// Package nodetest runs a package's browser-build tests (files tagged
// js && wasm) under Node.js, from a native test that first starts the
// servers they talk to:
//
//	func TestBrowserConn(t *testing.T) {
//		srv := httptest.NewServer(handler)
//		defer srv.Close()
//		nodetest.Run(t, "^TestJS", "SHOAL_TEST_URL="+srv.URL)
//	}
//
// The js tests read the URL from the environment and skip when it is
// unset. Node 20 needs --experimental-websocket for its WebSocket, which
// Run passes when needed; Run skips when node is missing or under -short.
package nodetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Run runs `go test -run pattern` on the current directory's package for
// GOOS=js GOARCH=wasm under Node.js, with env added to the environment,
// and fails t if those tests fail.
func Run(t *testing.T, pattern string, env ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("compiles the package for js/wasm: not under -short")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not installed")
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	nodeOptions := os.Getenv("NODE_OPTIONS")
	if exec.Command("node", "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)").Run() != nil {
		nodeOptions += " --experimental-websocket" // Node 20
	}
	cmd := exec.CommandContext(t.Context(), "go", "test", "-count=1", "-v", "-run", pattern, ".")
	cmd.Env = append(os.Environ(),
		"GOOS=js", "GOARCH=wasm",
		// go test runs a js/wasm test binary with go_js_wasm_exec.
		"PATH="+filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm")+string(os.PathListSeparator)+os.Getenv("PATH"),
		"NODE_OPTIONS="+strings.TrimSpace(nodeOptions),
	)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("js/wasm tests under node: %v\n%s", err, out)
	}
	t.Logf("js/wasm tests under node:\n%s", out)
}
