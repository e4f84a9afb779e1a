package swarm_test

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The engine is sans-IO (doc.go, docs/../STYLE.md house rule 2): it owns no
// goroutines, channels, locks, clocks, sockets, files or logs, and takes its
// randomness from Config.Rand alone (no global or system source). TestEngineIsSansIO checks this from the
// import graph and the syntax tree of the engine and of every package of
// this module it imports (shared/wire), rather than by matching strings:
// an aliased import, time.Since or a go statement cannot slip through.

const module = "github.com/shoal-live/shoal/"

// forbiddenImport reports why a sans-IO package may not import path, or "".
func forbiddenImport(path string) string {
	for _, p := range []string{"net", "os", "syscall", "log", "sync", "io/fs", "runtime", "unsafe"} {
		if path == p || strings.HasPrefix(path, p+"/") {
			return "I/O, concurrency or runtime access (" + p + ")"
		}
	}
	switch path {
	case "math/rand":
		return "math/rand's global source (use Config.Rand, math/rand/v2 types)"
	case "crypto/rand":
		return "the system's random source (use Config.Rand: runs must be reproducible)"
	}
	return ""
}

// timeAllowed are the names of package time a sans-IO package may use:
// types, constants and pure functions; the clock and timers are out.
var timeAllowed = []string{
	"Duration", "Time", "Month", "Weekday", "Location", "UTC",
	"Nanosecond", "Microsecond", "Millisecond", "Second", "Minute", "Hour",
	"Unix", "UnixMilli", "UnixMicro", "Date", "ParseDuration",
}

// randAllowed are the names of math/rand/v2 that do not touch its global
// source: a *rand.Rand built from a seeded source.
var randAllowed = []string{"Rand", "New", "Source", "PCG", "NewPCG", "ChaCha8", "NewChaCha8", "Zipf", "NewZipf"}

// sansIOViolations returns what in one parsed file breaks the rules.
func sansIOViolations(fset *token.FileSet, f *ast.File) []string {
	var out []string
	bad := func(n ast.Node, format string, args ...any) {
		out = append(out, fmt.Sprintf("%s: %s", fset.Position(n.Pos()), fmt.Sprintf(format, args...)))
	}
	names := map[string]string{} // local name → import path
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if why := forbiddenImport(path); why != "" {
			bad(imp, "imports %s: %s", path, why)
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if path == "math/rand/v2" {
			name = "rand"
		}
		if imp.Name != nil {
			name = imp.Name.Name
		}
		if name == "." && (path == "time" || strings.HasPrefix(path, "math/rand")) {
			bad(imp, "dot-imports %s: its clock or global source would hide", path)
		}
		names[name] = path
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			bad(n, "go statement: the engine starts no goroutines")
		case *ast.ChanType:
			bad(n, "channel type: the engine owns no concurrency")
		case *ast.SelectStmt:
			bad(n, "select statement")
		case *ast.SelectorExpr:
			id, ok := n.X.(*ast.Ident)
			if !ok || id.Obj != nil { // a local variable, not a package
				return true
			}
			switch names[id.Name] {
			case "time":
				if !slices.Contains(timeAllowed, n.Sel.Name) {
					bad(n, "time.%s: time comes from the driver's events", n.Sel.Name)
				}
			case "math/rand/v2":
				if !slices.Contains(randAllowed, n.Sel.Name) {
					bad(n, "rand.%s uses the global source: use Config.Rand", n.Sel.Name)
				}
			}
		}
		return true
	})
	return out
}

// modulePackages returns the directories of the packages of this module
// that path imports, itself included, transitively (not test imports).
func modulePackages(t *testing.T, path string) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func(path string)
	walk = func(path string) {
		if _, seen := out[path]; seen {
			return
		}
		p, err := build.Default.Import(path, ".", 0)
		if err != nil {
			t.Fatalf("import %s: %v", path, err)
		}
		out[path] = p.Dir
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module) {
				walk(imp)
			}
		}
	}
	walk(path)
	return out
}

func TestEngineIsSansIO(t *testing.T) {
	pkgs := modulePackages(t, module+"shared/swarm")
	if _, ok := pkgs[module+"shared/wire"]; !ok || len(pkgs) < 2 {
		t.Fatalf("the import graph misses shared/wire: %v", pkgs)
	}
	for path, dir := range pkgs {
		p, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range p.Imports {
			if why := forbiddenImport(imp); why != "" {
				t.Errorf("%s imports %s: %s", path, imp, why)
			}
		}
		fset := token.NewFileSet()
		for _, name := range p.GoFiles { // this build's non-test files
			f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range sansIOViolations(fset, f) {
				t.Error(v)
			}
		}
	}
}

// TestSansIOCheckCatches: the checker finds what the old string match
// missed, and passes what the engine may do.
func TestSansIOCheckCatches(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      string // part of the one violation, "" for none
	}{
		{"durations and times", `import "time"
			var d = 2 * time.Second
			func f(t time.Time) time.Duration { return t.Sub(t) + d }`, ""},
		{"a seeded Rand", `import "math/rand/v2"
			func f(r *rand.Rand) int { _ = rand.New(rand.NewPCG(1, 2)); return r.IntN(3) }`, ""},
		{"a local variable named time", `func f() { var time struct{ Now int }; _ = time.Now }`, ""},
		{"time.Now", `import "time"
			var x = time.Now()`, "time.Now"},
		{"time.Since", `import "time"
			func f(t time.Time) time.Duration { return time.Since(t) }`, "time.Since"},
		{"an aliased clock", `import tm "time"
			var c = tm.After(1)`, "time.After"},
		{"a timer", `import "time"
			var c = time.AfterFunc(1, nil)`, "time.AfterFunc"},
		{"global rand", `import "math/rand/v2"
			var n = rand.IntN(3)`, "global source"},
		{"math/rand v1", `import "math/rand"
			var r *rand.Rand`, "math/rand's global source"},
		{"crypto/rand", `import "crypto/rand"
			var s = rand.Text()`, "imports crypto/rand"},
		{"a go statement", `func f() { go f() }`, "go statement"},
		{"a channel", `var c chan int`, "channel type"},
		{"net", `import "net"
			var _ net.Conn`, "imports net"},
		{"os/exec", `import "os/exec"
			var _ = exec.Command`, "imports os/exec"},
		{"sync/atomic", `import "sync/atomic"
			var _ atomic.Int64`, "imports sync/atomic"},
		{"log/slog", `import "log/slog"
			var _ = slog.Info`, "imports log/slog"},
		{"syscall/js", `import "syscall/js"
			var _ js.Value`, "imports syscall/js"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "x.go", "package x\n"+tc.src, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := sansIOViolations(fset, f)
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("flagged %q", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
				t.Errorf("got %q, want one violation naming %q", got, tc.want)
			}
		})
	}
}
