package server_test

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLayering keeps the import rules of docs/ARCHITECTURE.md: each
// package's non-test imports, read from its files, against what the page
// says it may import.
func TestLayering(t *testing.T) {
	const mod = "github.com/shoal-live/shoal/"
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string][]string{} // package (under the module) -> its imports of ours
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if n := d.Name(); n == "node_modules" || n == "testdata" || strings.HasPrefix(n, ".") {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(root, path)
		for _, goos := range []string{"linux", "js"} {
			ctx := build.Default
			ctx.GOOS = goos
			if goos == "js" {
				ctx.GOARCH = "wasm"
			}
			p, err := ctx.ImportDir(path, 0)
			if err != nil {
				continue
			}
			for _, imp := range p.Imports {
				if ours, ok := strings.CutPrefix(imp, mod); ok && !slices.Contains(imports[rel], ours) {
					imports[rel] = append(imports[rel], ours)
				}
			}
		}
		return nil
	})
	if len(imports) < 20 {
		t.Fatalf("found only %d packages under %s", len(imports), root)
	}
	under := func(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	// The packages signal/server wires, that own one job each: what of
	// ours each may import besides shared/ (for those marked so).
	jobs := map[string]struct {
		may    []string
		shared bool
	}{
		"signal/clientip":   {},
		"signal/httplimit":  {may: []string{"signal/clientip", "signal/jsonhttp"}},
		"signal/pages":      {may: []string{"signal/static", "signal/jsonhttp"}, shared: true},
		"signal/streamapi":  {may: []string{"signal/streams", "signal/origin", "signal/store", "signal/tracker", "signal/jsonhttp"}, shared: true},
		"signal/rendezvous": {may: []string{"signal/tracker", "signal/chat", "signal/origin", "signal/jsonhttp"}, shared: true},
	}
	for pkg, imps := range imports {
		job, isJob := jobs[pkg]
		for _, imp := range imps {
			var why string
			switch {
			case under(pkg, "shared") && !under(imp, "shared"):
				why = "shared/ imports nothing from signal/, tools/ or wasm/"
			case pkg == "shared/swarm" && imp != "shared/wire":
				why = "the engine imports shared/wire only"
			case pkg == "wasm" && !under(imp, "shared"):
				why = "wasm/ imports shared/ only"
			case under(imp, "tools") && !under(pkg, "tools"):
				why = "only tools import tools"
			case imp == "signal/server" && pkg != "signal/cmd/shoal" && !under(pkg, "tools"):
				why = "only cmd/shoal and tools import the wiring package"
			case pkg == "signal/streams" && (imp == "signal/studio" || imp == "signal/tracker" || imp == "signal/chat" || imp == "signal/auth"):
				why = "streams declares what it needs of the tracker; it knows nothing of the studio, chat or auth"
			case pkg == "signal/studio" && !slices.Contains([]string{"signal/auth", "signal/store", "signal/streams", "signal/jsonhttp"}, imp):
				why = "the studio imports auth, store, streams and jsonhttp only"
			case isJob && !slices.Contains(job.may, imp) && !(job.shared && under(imp, "shared")):
				why = "a package signal/server wires imports only what its paragraph says it may"
			case under(pkg, "signal/ingest") && imp != "signal/cmaf" && imp != "shared/loopback":
				why = "ingest imports nothing of ours but cmaf and shared/loopback"
			case (pkg == "signal/cmaf" || pkg == "signal/static" || pkg == "signal/jsonhttp") && imp != "signal/cmaf":
				why = "cmaf, static and jsonhttp import nothing of ours but cmaf"
			}
			if why != "" {
				t.Errorf("%s imports %s: %s (docs/ARCHITECTURE.md)", pkg, imp, why)
			}
		}
	}
}
