package swarmtest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/cockroachdb/datadriven"
)

// handleStats prints the engine's counters (swarm.Stats), those not zero,
// or only the ones named:
//
//	stats [only=(Parents,Depth,…)]
func (env *Env) handleStats(t *testing.T, d *datadriven.TestData) string {
	t.Helper()
	var only []string
	if a, ok := d.Arg("only"); ok {
		only = a.Vals
	}
	v := reflect.ValueOf(env.e.Stats())
	var parts []string
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		f := v.Field(i)
		if len(only) > 0 {
			found := false
			for _, o := range only {
				found = found || strings.EqualFold(o, name)
			}
			if !found {
				continue
			}
		} else if f.IsZero() {
			continue
		}
		r := []rune(name)
		r[0] = unicode.ToLower(r[0])
		parts = append(parts, fmt.Sprintf("%s=%v", string(r), f.Interface()))
	}
	if len(parts) == 0 {
		return "(all zero)"
	}
	// Wrap at about 80 columns.
	var b strings.Builder
	n := 0
	for _, p := range parts {
		if n > 0 && n+1+len(p) > 80 {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(p)
		n += len(p)
	}
	return b.String()
}
