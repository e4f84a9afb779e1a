// Command wasmsize reports where the bytes of a Go WebAssembly binary go:
// the size of each section and the code bytes of each Go package, read
// from the binary's "name" section. Build without -ldflags=-s to keep it:
//
//	GOOS=js GOARCH=wasm go build -trimpath -o /tmp/shoal-sym.wasm ./wasm
//	go run ./tools/wasmsize -top 30 /tmp/shoal-sym.wasm
//
// With two files it lists, per package, the code bytes of the first, the
// second and the difference, biggest removals first.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
)

func main() {
	top := flag.Int("top", 25, "packages to list")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: wasmsize [-top N] a.wasm [b.wasm]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 || flag.NArg() > 2 {
		flag.Usage()
		os.Exit(2)
	}
	var mods []*module
	for _, name := range flag.Args() {
		b, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "wasmsize:", err)
			os.Exit(1)
		}
		m, err := parse(b)
		if err != nil {
			fmt.Fprintf(os.Stderr, "wasmsize: %s: %v\n", name, err)
			os.Exit(1)
		}
		mods = append(mods, m)
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	if len(mods) == 1 {
		report(tw, mods[0], *top)
	} else {
		diff(tw, mods[0], mods[1], *top)
	}
	tw.Flush()
}

type module struct {
	total    int
	sections map[string]int // section name -> bytes
	code     map[string]int // package -> code bytes
	funcs    map[string]int // package -> functions
}

func report(w *tabwriter.Writer, m *module, top int) {
	fmt.Fprintf(w, "bytes\tsection\t\n")
	for _, k := range sortedKeys(m.sections) {
		fmt.Fprintf(w, "%d\t%s\t\n", m.sections[k], k)
	}
	fmt.Fprintf(w, "%d\ttotal\t\n\n", m.total)
	fmt.Fprintf(w, "code bytes\tfuncs\tpackage\t\n")
	for i, k := range sortedKeys(m.code) {
		if i == top {
			break
		}
		fmt.Fprintf(w, "%d\t%d\t%s\t\n", m.code[k], m.funcs[k], k)
	}
}

func diff(w *tabwriter.Writer, a, b *module, top int) {
	delta := map[string]int{}
	for k, v := range a.code {
		delta[k] += v
	}
	for k, v := range b.code {
		delta[k] -= v
	}
	fmt.Fprintf(w, "before\tafter\tremoved\tpackage\t\n")
	for i, k := range sortedKeys(delta) {
		if i == top || delta[k] <= 0 {
			break
		}
		fmt.Fprintf(w, "%d\t%d\t%d\t%s\t\n", a.code[k], b.code[k], delta[k], k)
	}
	fmt.Fprintf(w, "%d\t%d\t%d\t(file)\t\n", a.total, b.total, a.total-b.total)
}

// sortedKeys returns m's keys, largest value first.
func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

var sectionNames = []string{"custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "datacount"}

func parse(b []byte) (*module, error) {
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return nil, errors.New("not a WebAssembly binary")
	}
	m := &module{total: len(b), sections: map[string]int{}, code: map[string]int{}, funcs: map[string]int{}}
	r := &reader{b: b[8:]}
	var imported int
	var bodies []int
	names := map[int]string{}
	for r.more() {
		id := r.byte()
		size := int(r.uleb())
		body := r.bytes(size)
		if r.err != nil {
			return nil, r.err
		}
		name := fmt.Sprintf("section %d", id)
		if int(id) < len(sectionNames) {
			name = sectionNames[id]
		}
		s := &reader{b: body}
		switch id {
		case 0:
			cname := s.name()
			name = "custom " + cname
			if cname == "name" {
				readNames(s, names)
			}
		case 2:
			imported = countImportedFuncs(s)
		case 10:
			n := int(s.uleb())
			for i := 0; i < n && s.err == nil; i++ {
				sz := int(s.uleb())
				s.bytes(sz)
				bodies = append(bodies, sz)
			}
		}
		if s.err != nil {
			return nil, fmt.Errorf("%s: %w", name, s.err)
		}
		m.sections[name] += size
	}
	if len(names) == 0 {
		return nil, errors.New("no function names: build without -ldflags=-s")
	}
	for i, sz := range bodies {
		pkg := packageOf(names[imported+i])
		m.code[pkg] += sz
		m.funcs[pkg]++
	}
	return m, nil
}

func readNames(s *reader, names map[int]string) {
	for s.more() && s.err == nil {
		id := s.byte()
		sub := &reader{b: s.bytes(int(s.uleb()))}
		if id != 1 { // function names
			continue
		}
		n := int(sub.uleb())
		for i := 0; i < n && sub.err == nil; i++ {
			idx := int(sub.uleb())
			names[idx] = sub.name()
		}
		if sub.err != nil {
			s.err = sub.err
		}
	}
}

func countImportedFuncs(s *reader) int {
	n := int(s.uleb())
	funcs := 0
	for i := 0; i < n && s.err == nil; i++ {
		s.name()
		s.name()
		switch s.byte() {
		case 0: // function: type index
			s.uleb()
			funcs++
		case 1: // table: reftype, limits
			s.byte()
			s.limits()
		case 2: // memory: limits
			s.limits()
		case 3: // global: valtype, mutability
			s.byte()
			s.byte()
		}
	}
	return funcs
}

// packageOf returns the import path of a function name as Go's wasm linker
// writes it: '/' becomes '_' and '(', ')' and '*' become '_', so
// "github.com/pion/webrtc/v4.(*PeerConnection).CreateOffer" is
// "github.com_pion_webrtc_v4.__PeerConnection_.CreateOffer". The package
// ends at the first '.' that is not a domain's (".com_", ".org_" …).
func packageOf(sym string) string {
	if sym == "" {
		return "(unnamed)"
	}
	for i := 0; i < len(sym); i++ {
		if sym[i] != '.' {
			continue
		}
		label, _, found := strings.Cut(sym[i+1:], "_")
		if found && domains[label] && !strings.Contains(label, ".") {
			continue
		}
		return strings.ReplaceAll(strings.TrimSuffix(sym[:i], "_"), "_", "/")
	}
	return sym
}

var domains = map[string]bool{"com": true, "org": true, "net": true, "io": true, "dev": true, "in": true, "land": true}

type reader struct {
	b   []byte
	err error
}

func (r *reader) more() bool { return r.err == nil && len(r.b) > 0 }

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uleb() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.fail()
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) name() string { return string(r.bytes(int(r.uleb()))) }

func (r *reader) limits() {
	if r.byte()&1 != 0 {
		r.uleb()
	}
	r.uleb()
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errors.New("truncated")
	}
}
