package main

import (
	"os"
	"strings"
	"testing"
)

// TestGoTaskStaysOutOfTheModule: go-task is pinned in task.mod, and the
// server's go.mod names only this wrapper, so that go-task's modules never
// enter the server's build graph (a `go get -tool` on go.mod would undo it).
func TestGoTaskStaysOutOfTheModule(t *testing.T) {
	for _, tc := range []struct {
		file, want, dontWant string
	}{
		{"../../go.mod", "tool github.com/shoal-live/shoal/tools/task\n", "go-task"},
		{"task.mod", "tool github.com/go-task/task/v3/cmd/task\n", ""},
	} {
		b, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), tc.want) {
			t.Errorf("%s lacks %q", tc.file, tc.want)
		}
		if tc.dontWant != "" && strings.Contains(string(b), tc.dontWant) {
			t.Errorf("%s mentions %s", tc.file, tc.dontWant)
		}
	}
}
