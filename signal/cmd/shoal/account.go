package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/shoal-live/shoal/signal/auth"
	"github.com/shoal-live/shoal/signal/store"
)

// defaultDataDir is where the database lives without -data-dir:
// $XDG_DATA_HOME/shoal, else ~/.local/share/shoal, else ./shoal-data.
func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "shoal")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "shoal")
	}
	return "shoal-data"
}

// createAccount makes a broadcaster account for -create-account. The
// password comes from SHOAL_ADMIN_PASSWORD, else the first line of stdin
// (typed at a prompt or piped in).
func createAccount(db *store.DB, username string) error {
	password, ok := os.LookupEnv("SHOAL_ADMIN_PASSWORD")
	if !ok {
		if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintf(os.Stderr, "password for %s (at least %d characters; it is shown as you type): ", username, auth.MinPasswordLen)
		}
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
			return fmt.Errorf("-create-account: reading the password from stdin: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	acct, err := auth.CreateAccount(context.Background(), db, username, password)
	if err != nil {
		return fmt.Errorf("-create-account: %w", err)
	}
	fmt.Fprintf(os.Stderr, "created account %q; sign in at /login\n", acct.Username)
	return nil
}
