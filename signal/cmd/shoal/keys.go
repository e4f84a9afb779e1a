package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/shoal-live/shoal/signal/streams"
)

// minKeyLen is the shortest -stream-keys key accepted: a stream key is
// the only thing between the internet and a broadcast.
const minKeyLen = 16

// liveKeyFile holds the key of the stream "live" when -stream-keys gives
// none, so that it survives restarts and is never written to the log.
const liveKeyFile = "live.key"

// liveKey returns the key kept in dir/live.key, making one (mode 0600) if
// there is none yet, and the file's path.
func liveKey(dir string) (key, path string, err error) {
	path = filepath.Join(dir, liveKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if key = strings.TrimSpace(string(b)); len(key) >= minKeyLen {
			return key, path, nil
		}
		return "", path, fmt.Errorf("%s: a key of %d characters, fewer than %d", path, len(key), minKeyLen)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", path, fmt.Errorf("read stream key: %w", err)
	}
	key = streams.NewKey()
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", path, fmt.Errorf("write stream key: %w", err)
	}
	return key, path, nil
}
