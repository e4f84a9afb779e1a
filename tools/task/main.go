// Command task runs go-task (https://taskfile.dev) for this repository, so
// that `go tool task …` works from a clone with nothing installed, while
// go-task and its ~130 modules stay out of the server's module graph: they
// are pinned in tools/task/task.mod, not in go.mod. It runs
//
//	go tool -modfile=tools/task/task.mod task ARGS…
//
// from the module root's go.mod directory and passes the exit status on.
//
// To update go-task:
//
//	go get -modfile=tools/task/task.mod -tool github.com/go-task/task/v3/cmd/task@latest
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "task: go env GOMOD:", err)
		os.Exit(1)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	args := append([]string{"tool", "-modfile=" + filepath.Join(root, "tools", "task", "task.mod"), "task"}, os.Args[1:]...)
	cmd := exec.Command("go", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Ctrl-C reaches go-task too (same process group): let it decide when
	// to stop, and wait for it. A SIGTERM or SIGHUP sent to this process
	// alone is passed on.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "task:", err)
		os.Exit(1)
	}
	go func() {
		for s := range sigs {
			if s != os.Interrupt {
				cmd.Process.Signal(s)
			}
		}
	}()
	err = cmd.Wait()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		os.Exit(exit.ExitCode())
	case err != nil:
		fmt.Fprintln(os.Stderr, "task:", err)
		os.Exit(1)
	}
}
