package cmaf_test

import (
	"fmt"
	"os"
	"testing"
)

// mediaDir holds the ffmpeg-made sources, shared by tests and benchmarks so
// that each is encoded once per run.
var mediaDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cmaf-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mediaDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
