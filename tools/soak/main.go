// Command soak runs Shoal for a long time under churn and faults and
// reports how the server held up: bin/shoal with a fresh data directory,
// an ffmpeg RTMP ingest, native peers (shared/node) joining and leaving
// continuously, the malicious peer (tools/malpeer) coming back again and
// again, one encoder disconnect and reconnect, and one kill -9 and restart
// of the server mid-run.
//
// It reports the server's peak and final memory (RSS from /proc) and
// goroutines (from -debug-addr's /debug/vars), chunks lost by honest peers,
// how long viewers took to get video again after the restart, and whether
// the stream, its key, its signing key and its chat history survived.
//
//	go run ./tools/soak -duration 10m   # or go tool task soak (SOAK_DURATION)
//
// Run it in a loopback-only network namespace (tools/scripts/netns.sh), as
// the task does: the peers' ICE stays on loopback.
package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shoal-live/shoal/shared/integrity"
	"github.com/shoal-live/shoal/shared/node"
	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/store"
	"github.com/shoal-live/shoal/tools/malpeer"
)

const stream = "soak"

// errExited is startServer's error when the server exits before it is
// healthy (a port of the killed one not yet free, say).
var errExited = errors.New("server exited before it was healthy")

func main() {
	var cfg config
	flag.DurationVar(&cfg.duration, "duration", envDuration("SOAK_DURATION", 10*time.Minute), "how long to run (SOAK_DURATION)")
	flag.StringVar(&cfg.bin, "bin", "bin/shoal", "server binary")
	flag.IntVar(&cfg.peers, "peers", 6, "honest native peers at any time")
	flag.StringVar(&cfg.out, "json", "artifacts/soak.json", "where to write the report as JSON")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	rep, err := run(context.Background(), cfg, log)
	if rep != nil {
		rep.print(os.Stdout)
		if cfg.out != "" {
			os.MkdirAll(filepath.Dir(cfg.out), 0o755)
			b, _ := json.MarshalIndent(rep, "", "  ")
			os.WriteFile(cfg.out, b, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if len(rep.Problems) > 0 {
		os.Exit(1)
	}
}

type config struct {
	duration time.Duration
	bin      string
	peers    int
	out      string
}

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

// report is the soak's result.
type report struct {
	Duration           string   `json:"duration"`
	PeakRSSMiB         float64  `json:"peakRssMiB"`
	FinalRSSMiB        float64  `json:"finalRssMiB"`
	PeakGoroutines     int      `json:"peakGoroutines"`
	FinalGoroutines    int      `json:"finalGoroutines"`
	Samples            int      `json:"samples"`
	PeerSessions       int      `json:"peerSessions"`
	ChunksDelivered    int      `json:"chunksDelivered"`
	ChunksLost         int      `json:"chunksLost"`
	SessionsWithLoss   int      `json:"sessionsWithLoss"`
	DeliveredBad       int      `json:"deliveredBad"`
	ForwardedBad       int      `json:"forwardedBad"`
	VerifyFailures     int      `json:"verifyFailures"`
	Attackers          int      `json:"attackers"`
	AttackersCutOff    int      `json:"attackersQuarantined"`
	EncoderRestarts    int      `json:"encoderRestarts"`
	ServerRestartMs    int64    `json:"serverRestartMs"`    // kill -9 to /healthz answering
	ViewerResumeMs     int64    `json:"viewerResumeMs"`     // kill -9 to the first chunk a viewer got from the new server
	EncoderResumeMs    int64    `json:"encoderResumeMs"`    // encoder drop to the next chunk delivered
	StreamSurvived     bool     `json:"streamSurvived"`     // the stream and its publishing key
	SigningKeySurvived bool     `json:"signingKeySurvived"` // viewers got the same public key after the restart
	ChatSurvived       bool     `json:"chatSurvived"`       // messages sent before the kill are in the history after it
	ChatNote           string   `json:"chatNote,omitempty"`
	ServerPanics       int      `json:"serverPanics"`
	Problems           []string `json:"problems"`
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\nsoak %s\n", r.Duration)
	row := func(k string, v any) { fmt.Fprintf(w, "  %-34s %v\n", k, v) }
	row("server RSS peak / final (MiB)", fmt.Sprintf("%.1f / %.1f", r.PeakRSSMiB, r.FinalRSSMiB))
	row("server goroutines peak / final", fmt.Sprintf("%d / %d", r.PeakGoroutines, r.FinalGoroutines))
	row("honest peer sessions", r.PeerSessions)
	row("chunks delivered / lost", fmt.Sprintf("%d / %d (%d sessions with a loss)", r.ChunksDelivered, r.ChunksLost, r.SessionsWithLoss))
	row("delivered / forwarded unverified", fmt.Sprintf("%d / %d", r.DeliveredBad, r.ForwardedBad))
	row("chunks refused (verification)", r.VerifyFailures)
	row("attackers / quarantined", fmt.Sprintf("%d / %d", r.Attackers, r.AttackersCutOff))
	row("encoder restarts", r.EncoderRestarts)
	row("encoder drop -> next chunk (ms)", r.EncoderResumeMs)
	row("kill -9 -> server healthy (ms)", r.ServerRestartMs)
	row("kill -9 -> viewers get chunks (ms)", r.ViewerResumeMs)
	row("stream + key survived", r.StreamSurvived)
	row("signing key survived", r.SigningKeySurvived)
	row("chat history survived", fmt.Sprintf("%v %s", r.ChatSurvived, r.ChatNote))
	row("server panics in log", r.ServerPanics)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  PROBLEM: %s\n", p)
	}
}

type soak struct {
	cfg  config
	log  *slog.Logger
	dir  string
	addr string // http
	rtmp string
	dbg  string
	key  string // the stream's publishing key

	mu        sync.Mutex
	server    *exec.Cmd
	exited    chan struct{} // closed when server has exited
	rep       report
	keys      map[string]map[int]bool // welcome stream keys seen, and in which server generations
	gen       int                     // server generation: 0, then 1 after the restart
	killAt    time.Time
	dropAt    time.Time
	lastChunk time.Time
}

func run(ctx context.Context, cfg config, log *slog.Logger) (*report, error) {
	bin, err := filepath.Abs(cfg.bin)
	if err != nil {
		return nil, err
	}
	cfg.bin = bin
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("server binary: %w (run go tool task build)", err)
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return nil, fmt.Errorf("ffmpeg: %w (run go tool task deps)", err)
	}
	dir, err := os.MkdirTemp("", "shoal-soak-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	s := &soak{cfg: cfg, log: log, dir: dir, addr: freeAddr(), rtmp: freeAddr(), dbg: freeAddr(), keys: map[string]map[int]bool{}}
	s.rep.Duration = cfg.duration.String()
	if err := s.seed(ctx); err != nil {
		return nil, err
	}
	if err := s.startServer(ctx); err != nil {
		return &s.rep, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	var wg sync.WaitGroup
	encoderDrop := make(chan struct{})
	wg.Go(func() { s.sample(ctx) })
	wg.Go(func() { s.encoder(ctx, encoderDrop) })
	wg.Go(func() { s.peers(ctx) })
	wg.Go(func() { s.attackers(ctx) })
	wg.Go(func() { s.faults(ctx, encoderDrop) })
	<-ctx.Done()
	wg.Wait()
	s.stopServer()
	s.check(context.Background())
	return &s.rep, nil
}

// seed makes the broadcaster's account and stream in a fresh store, as the
// studio would.
func (s *soak) seed(ctx context.Context) error {
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(s.dir, store.FileName)})
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := db.CreateAccount(ctx, "soak", "not-a-real-hash")
	if err != nil {
		return err
	}
	st, err := db.CreateStream(ctx, store.NewStream{Name: stream, Title: "Soak", OwnerID: a.ID})
	if err != nil {
		return err
	}
	s.key = st.Key
	return nil
}

func (s *soak) startServer(ctx context.Context) error {
	logf, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.cfg.bin, "-addr", s.addr, "-rtmp-addr", s.rtmp, "-debug-addr", s.dbg,
		"-data-dir", s.dir, "-demo", "", "-ice-loopback", "-stream-keys", fmt.Sprintf("unused=%016x%016x", rand.Uint64(), rand.Uint64()))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	s.mu.Lock()
	s.server, s.exited = cmd, exited
	s.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errExited
		default:
		}
		if resp, err := http.Get("http://" + s.addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("server not healthy within 30 s")
}

func (s *soak) stopServer() {
	s.mu.Lock()
	cmd, exited := s.server, s.exited
	s.mu.Unlock()
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		s.problem("server did not stop within 15 s of SIGINT")
		cmd.Process.Kill()
	}
}

func (s *soak) problem(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rep.Problems = append(s.rep.Problems, fmt.Sprintf(format, args...))
}

// sample reads the server's RSS and goroutines every 2 s.
func (s *soak) sample(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		pid := s.server.Process.Pid
		s.mu.Unlock()
		rss := readRSS(pid)
		g := -1
		if resp, err := client.Get("http://" + s.dbg + "/debug/vars"); err == nil {
			var v struct {
				Goroutines int `json:"goroutines"`
			}
			json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			g = v.Goroutines
		}
		if rss <= 0 || g < 0 {
			continue // between a kill and a restart
		}
		s.mu.Lock()
		s.rep.Samples++
		s.rep.PeakRSSMiB = max(s.rep.PeakRSSMiB, rss)
		s.rep.FinalRSSMiB = rss
		s.rep.PeakGoroutines = max(s.rep.PeakGoroutines, g)
		s.rep.FinalGoroutines = g
		s.mu.Unlock()
	}
}

func readRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return float64(kb) / 1024
		}
	}
	return 0
}

// encoder keeps ffmpeg publishing, restarting it 1 s after it exits (as
// OBS reconnects), and drops it once when told.
func (s *soak) encoder(ctx context.Context, drop <-chan struct{}) {
	url := fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, s.key)
	for ctx.Err() == nil {
		cmd := exec.CommandContext(ctx, "ffmpeg", ffmpegArgs(url)...)
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 5 * time.Second
		if err := cmd.Start(); err != nil {
			s.problem("ffmpeg: %v", err)
			return
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-drop:
			s.log.Info("fault: encoder disconnects")
			s.mu.Lock()
			s.dropAt = time.Now()
			s.mu.Unlock()
			cmd.Process.Kill()
			<-exited
			time.Sleep(3 * time.Second)
		case <-ctx.Done():
			<-exited
			return
		}
		s.mu.Lock()
		s.rep.EncoderRestarts++
		s.mu.Unlock()
		time.Sleep(time.Second)
	}
}

func ffmpegArgs(url string) []string {
	return []string{"-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc=size=640x360:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "30", "-bf", "0",
		"-b:v", "800k", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "96k",
		"-f", "flv", url}
}

// faults drops the encoder at 30% of the run and kills the server with
// SIGKILL at 55%, restarting it at once on the same data directory.
func (s *soak) faults(ctx context.Context, drop chan<- struct{}) {
	d := s.cfg.duration
	if !sleep(ctx, d*30/100) {
		return
	}
	drop <- struct{}{}
	if !sleep(ctx, d*15/100) {
		return
	}
	s.chat(ctx, false) // at 45%: three messages the restart must not lose
	if !sleep(ctx, d*10/100) {
		return
	}
	s.log.Info("fault: kill -9 the server")
	s.mu.Lock()
	s.killAt = time.Now()
	s.gen++
	pid, exited := s.server.Process.Pid, s.exited
	s.mu.Unlock()
	syscall.Kill(pid, syscall.SIGKILL)
	<-exited // its sockets are closed once it is gone
	// Restart as a supervisor would: at once, and again if a port is not
	// free yet.
	var err error
	for try := 0; try < 20; try++ {
		if err = s.startServer(ctx); !errors.Is(err, errExited) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		s.problem("restart after kill -9: %v", err)
		s.log.Error("server did not come back", "err", err)
		return
	}
	s.mu.Lock()
	s.rep.ServerRestartMs = time.Since(s.killAt).Milliseconds()
	s.mu.Unlock()
	s.log.Info("server back", "after", time.Since(s.killAt).Round(time.Millisecond))
	if sleep(ctx, 5*time.Second) {
		s.chat(ctx, true)
	}
}

var chatTexts = []string{"soak one", "soak two", "soak three"}

// chat sends chatTexts to the stream's room, or with check, joins the room
// and looks for them in the history it is sent.
func (s *soak) chat(ctx context.Context, check bool) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	note := func(format string, args ...any) {
		s.mu.Lock()
		s.rep.ChatNote = fmt.Sprintf(format, args...)
		s.mu.Unlock()
	}
	conn, err := signaling.DialWebSocket(ctx, "ws://"+s.addr+"/api/signal")
	if err != nil {
		note("chat: %v", err)
		return
	}
	defer conn.Close("bye")
	if err := conn.Send(ctx, signaling.Message{Type: signaling.TypeChatJoin, Stream: stream}); err != nil {
		note("chat join: %v", err)
		return
	}
	seen := map[string]bool{}
	if check {
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			rctx, rcancel := context.WithDeadline(ctx, deadline)
			m, err := conn.Recv(rctx)
			rcancel()
			if err != nil {
				break
			}
			if m.Type == signaling.TypeChatMsg {
				seen[m.Text] = true
			}
		}
		n := 0
		for _, t := range chatTexts {
			if seen[t] {
				n++
			}
		}
		s.mu.Lock()
		s.rep.ChatSurvived = n == len(chatTexts)
		s.mu.Unlock()
		note("(%d of %d messages in the history after the restart)", n, len(chatTexts))
		return
	}
	for _, t := range chatTexts {
		if err := conn.Send(ctx, signaling.Message{Type: signaling.TypeChatSend, Nick: "soaker", Text: t}); err != nil {
			note("chat send: %v", err)
			return
		}
		time.Sleep(1100 * time.Millisecond) // the per-connection chat rate is 1/s
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// peers keeps cfg.peers honest native peers running, each for a random
// 20-60 s (a server restart ends them sooner), replacing each that ends.
func (s *soak) peers(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range s.cfg.peers {
		wg.Go(func() {
			sleep(ctx, time.Duration(i)*2*time.Second)
			for ctx.Err() == nil {
				life := 20*time.Second + rand.N(40*time.Second)
				s.peerSession(ctx, life)
				sleep(ctx, time.Second)
			}
		})
	}
	wg.Wait()
}

// keyConn records the stream key the welcome carries.
type keyConn struct {
	signaling.Conn
	s   *soak
	gen int
}

func (k keyConn) Recv(ctx context.Context) (signaling.Message, error) {
	m, err := k.Conn.Recv(ctx)
	if err == nil && m.Type == signaling.TypeWelcome {
		k.s.mu.Lock()
		if k.s.keys[m.StreamKey] == nil {
			k.s.keys[m.StreamKey] = map[int]bool{}
		}
		k.s.keys[m.StreamKey][k.gen] = true
		k.s.mu.Unlock()
	}
	return m, err
}

func (s *soak) peerSession(ctx context.Context, life time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, life)
	defer cancel()
	base := "http://" + s.addr
	conn, err := signaling.DialWebSocket(ctx, "ws://"+s.addr+"/api/signal")
	if err != nil {
		return // the server is restarting
	}
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	got := map[uint64]bool{}
	var last node.Stats
	n, err := node.New(node.Config{
		Stream: stream, Signal: keyConn{Conn: conn, s: s, gen: gen}, LoopbackOnly: true,
		Fetch:  node.HTTPFetcher(base, nil),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnDeliver: func(d node.Delivery) {
			got[d.Chunk.Seq] = true
			now := time.Now()
			s.mu.Lock()
			if !s.killAt.IsZero() && s.rep.ViewerResumeMs == 0 && gen == s.gen && s.gen > 0 {
				s.rep.ViewerResumeMs = now.Sub(s.killAt).Milliseconds()
			}
			if !s.dropAt.IsZero() && s.rep.EncoderResumeMs == 0 && now.Sub(s.dropAt) > 500*time.Millisecond && s.gen == 0 {
				s.rep.EncoderResumeMs = now.Sub(s.dropAt).Milliseconds()
			}
			s.lastChunk = now
			s.mu.Unlock()
		},
		OnStats: func(st node.Stats) { last = st },
	})
	if err != nil {
		s.problem("node: %v", err)
		return
	}
	n.Run(ctx)
	last = n.Stats()
	// Chunks lost: holes between the first and the last chunk delivered
	// (the engine skips nothing on purpose; a hole is a chunk the player
	// would have had to skip).
	seqs := make([]uint64, 0, len(got))
	for q := range got {
		seqs = append(seqs, q)
	}
	slices.Sort(seqs)
	lost := 0
	if len(seqs) > 1 {
		lost = int(seqs[len(seqs)-1]-seqs[0]+1) - len(seqs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rep.PeerSessions++
	s.rep.ChunksDelivered += len(seqs)
	s.rep.ChunksLost += lost
	if lost > 0 {
		s.rep.SessionsWithLoss++
	}
	s.rep.DeliveredBad += last.DeliveredBad
	s.rep.ForwardedBad += last.ForwardedBad
	s.rep.VerifyFailures += last.VerifyFailures
}

// attackers sends a new malicious peer into the swarm every 30 s.
func (s *soak) attackers(ctx context.Context) {
	for sleep(ctx, 30*time.Second) {
		actx, cancel := context.WithTimeout(ctx, 20*time.Second)
		st, err := malpeer.Run(actx, malpeer.Config{Base: "http://" + s.addr, Stream: stream, LoopbackOnly: true, StrikeAfter: 2 * time.Second})
		cancel()
		if err != nil {
			continue // the server is restarting
		}
		s.mu.Lock()
		s.rep.Attackers++
		if st.Quarantined {
			s.rep.AttackersCutOff++
		}
		if st.IntroducedAfterQuarantine > 0 {
			s.rep.Problems = append(s.rep.Problems, fmt.Sprintf("attacker %s introduced to %d peers after its quarantine", st.ID, st.IntroducedAfterQuarantine))
		}
		s.mu.Unlock()
	}
}

// check runs after the server stopped: the store must still hold the
// stream, its key and the chat history, viewers must have seen one
// signing key throughout, and the numbers must be sane.
func (s *soak) check(ctx context.Context) {
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(s.dir, store.FileName)})
	if err != nil {
		s.problem("reopen store: %v", err)
		return
	}
	defer db.Close()
	st, err := db.StreamByName(ctx, stream)
	s.rep.StreamSurvived = err == nil && st.Key == s.key
	if priv, err := db.SigningKey(ctx, stream); err == nil {
		want := integrity.EncodePublicKey(priv.Public().(ed25519.PublicKey))
		gens := s.keys[want]
		s.rep.SigningKeySurvived = len(s.keys) == 1 && gens[0] && gens[1]
	}
	if b, err := os.ReadFile(filepath.Join(s.dir, "server.log")); err == nil {
		s.rep.ServerPanics = strings.Count(string(b), "panic")
	}
	r := &s.rep
	if !r.StreamSurvived {
		s.problem("the stream or its key did not survive the restart")
	}
	if !r.SigningKeySurvived {
		s.problem("viewers did not see the same signing key before and after the restart (%d keys seen)", len(s.keys))
	}
	if r.DeliveredBad+r.ForwardedBad > 0 {
		s.problem("honest peers delivered %d and forwarded %d unverified chunks", r.DeliveredBad, r.ForwardedBad)
	}
	if !r.ChatSurvived {
		s.problem("chat history did not survive the restart %s", r.ChatNote)
	}
	if r.ViewerResumeMs == 0 {
		s.problem("viewers never got a chunk after the restart")
	}
	if r.ServerPanics > 0 {
		s.problem("%d panics in the server log", r.ServerPanics)
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}
