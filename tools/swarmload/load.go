package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing/fstest"
	"time"

	"github.com/shoal-live/shoal/shared/node"
	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/swarm"
	"github.com/shoal-live/shoal/shared/wire"
	"github.com/shoal-live/shoal/signal/server"
	"github.com/shoal-live/shoal/tools/swarmsim/hist"
	"github.com/shoal-live/shoal/tools/swarmsim/playmodel"
)

// Config is one run.
type Config struct {
	Peers    int           // initial viewers, joining evenly over Ramp
	Duration time.Duration // measured time, from the first viewer's start
	// Ramp defaults to min(1 m, Duration/5), as in the simulator.
	Ramp time.Duration
	// Churn is the fraction of Peers that leave at uniform random times in
	// [Ramp, Duration); each is replaced by a new viewer at once.
	Churn float64
	Seed  uint64
	// Rate and ChunkInterval shape the stream: the synthetic source sends
	// Rate×ChunkInterval/8 bytes every ChunkInterval; with FFmpeg, Rate is
	// the encoder's bitrate and ChunkInterval the CMAF fragment length.
	Rate          int64
	ChunkInterval time.Duration
	// FFmpeg publishes a test pattern over RTMP with ffmpeg instead of the
	// synthetic source; FFmpegPath defaults to "ffmpeg" on $PATH.
	FFmpeg     bool
	FFmpegPath string
	// StartupChunks is how many chunks the model player holds before it
	// starts (3, as the simulator); Window is the engine window past which
	// it skips a missing chunk (64, the engine's default).
	StartupChunks int
	Window        int
	// Tracker and origin settings (the server's defaults when zero); OriginCopies is how many copies of the stream the origin
	// pushes (zero: the server's default).
	Neighbours, OriginLinks int
	OriginCopies            float64
	// Upload is what each viewer's engine is told of its uplink, as a
	// multiple of the stream rate (zero: shared/node's default, as in the
	// browser). Loopback itself has no such limit.
	Upload float64
	// Progress, when set, gets a status line every ProgressEvery (5 s).
	Progress      io.Writer
	ProgressEvery time.Duration
	// Logger is for the server and the nodes; nil discards their logs.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Peers <= 0 {
		return c, errors.New("peers must be positive")
	}
	if c.Duration <= 0 {
		return c, errors.New("duration must be positive")
	}
	if c.Ramp <= 0 {
		c.Ramp = min(time.Minute, c.Duration/5)
	}
	if c.Ramp > c.Duration {
		return c, errors.New("ramp longer than the run")
	}
	if c.Churn < 0 || c.Churn > 10 {
		return c, errors.New("churn must be within [0, 10]")
	}
	if c.Rate <= 0 {
		c.Rate = 2_000_000
	}
	if c.ChunkInterval <= 0 {
		c.ChunkInterval = 125 * time.Millisecond // the server's default fragment
	}
	if b := c.chunkBytes(); !c.FFmpeg && (b < 16 || b > wire.MaxPayload) {
		return c, fmt.Errorf("a synthetic chunk of %d bytes is outside [16, %d]", b, wire.MaxPayload)
	}
	if c.StartupChunks <= 0 {
		c.StartupChunks = 3
	}
	if c.Window <= 0 {
		c.Window = 128 // the engine's default
	}
	// The server's defaults, spelt out so that the report shows them.
	if c.Neighbours <= 0 {
		c.Neighbours = server.Defaults().Neighbours
	}
	if c.OriginLinks <= 0 {
		c.OriginLinks = server.Defaults().OriginLinks
	}

	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 5 * time.Second
	}
	if c.FFmpegPath == "" {
		c.FFmpegPath = "ffmpeg"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

func (c Config) chunkBytes() int {
	return int(c.Rate * int64(c.ChunkInterval) / int64(time.Second) / 8)
}

// viewer is one native peer and what it got. Its fields after node are
// guarded by load.mu.
type viewer struct {
	idx    int
	joined int64 // ns since the run started
	cancel context.CancelFunc
	done   chan struct{}
	node   *node.Node
	err    error // node.Run's, set before done closes

	left      bool
	leftAt    int64
	delivered int
	firstDel  int64
	lastDel   int64
	maxGap    int64
	pl        *playmodel.Player
}

// load is one run in progress.
type load struct {
	cfg       Config
	base      string // server URL
	stream    string
	start     time.Time
	startWall int64 // start in Unix ns, for chunk timestamps
	client    *http.Client
	wg        sync.WaitGroup

	transports []*http.Transport // the viewers' fallback clients, guarded by mu

	fetches, fetchFailed atomic.Int64
	fetchBytes           atomic.Int64

	mu      sync.Mutex
	udp0    udpCounters
	ended   bool
	end     int64
	viewers []*viewer
	m       metrics
}

type metrics struct {
	startup                       []int64
	playLatency, delivLatency     hist.Hist
	players                       playmodel.Totals
	fromPeers, fromPush, fromHTTP int64
	gaps                          []int64
	buckets                       []bucket
	bucketLen                     int64
	peakGoroutines                int
}

type bucket struct {
	udpDrops          int64 // RcvbufErrors seen by the end of the bucket
	peers, push, http int64
	latSum            float64
	latN              int64
	viewers           int
}

func (b *bucket) latency(ns int64) {
	b.latSum += float64(ns) / 1e6
	b.latN++
}

func (m *metrics) bucketAt(t int64) *bucket {
	return &m.buckets[min(max(t, 0)/m.bucketLen, int64(len(m.buckets)-1))]
}

// Run starts the server, runs the viewers for cfg.Duration and reports.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	debug.SetGCPercent(200) // chunks are short-lived garbage; trade memory for CPU
	srvCtx, stopServer := context.WithCancel(ctx)
	defer stopServer()

	l := &load{cfg: cfg, stream: "demo"}
	l.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * cfg.Peers, IdleConnTimeout: 30 * time.Second}}
	defer l.client.CloseIdleConnections()

	scfg := server.Config{
		Neighbours: cfg.Neighbours, OriginLinks: cfg.OriginLinks, OriginCopies: cfg.OriginCopies,
		LoopbackOnly:  true,
		MaxConnsPerIP: 4*cfg.Peers + 64, // every viewer dials from 127.0.0.1
		// and shares its signaling byte budget: one address's per 8 viewers
		SignalBytesPerSecond: (cfg.Peers/8 + 1) * server.DefaultSignalBytesPerSecond,
		SignalByteBurst:      (cfg.Peers/8 + 1) * server.DefaultSignalByteBurst,
		FragmentDuration:     cfg.ChunkInterval,
		Logger:               cfg.Logger.With("component", "server"),
	}
	var rtmpURL string
	if cfg.FFmpeg {
		if _, err := lookFFmpeg(cfg.FFmpegPath); err != nil {
			return nil, err
		}
		l.stream = "live"
		rtmpAddr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		key := fmt.Sprintf("swarmload-%x", rand.Uint64())
		scfg.RTMPAddr, scfg.StreamKeys = rtmpAddr, map[string]string{l.stream: key}
		rtmpURL = "rtmp://" + rtmpAddr + "/" + l.stream + "/" + key
	} else {
		scfg.DemoStream, scfg.DemoSource = l.stream, "synthetic"
		scfg.DemoInterval, scfg.DemoChunkSize = cfg.ChunkInterval, cfg.chunkBytes()
	}
	srv, err := server.New(scfg, fstest.MapFS{"index.html": {Data: []byte("<h1>swarmload</h1>")}})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	l.base = "http://" + ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(srvCtx, ln) }()
	defer func() {
		stopServer()
		select {
		case err := <-served:
			if err != nil {
				cfg.Logger.Warn("server shutdown", "err", err)
			}
		case <-time.After(15 * time.Second):
			cfg.Logger.Warn("server did not shut down within 15 s")
		}
	}()
	if err := l.waitHealthy(ctx); err != nil {
		return nil, err
	}
	if cfg.FFmpeg {
		enc, err := startFFmpeg(srvCtx, cfg, rtmpURL)
		if err != nil {
			return nil, err
		}
		defer enc.stop(cfg.Logger)
		if err := l.waitIngest(ctx, enc); err != nil {
			return nil, err
		}
	}
	return l.run(ctx)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (l *load) waitHealthy(ctx context.Context) error {
	return poll(ctx, 10*time.Second, func() (bool, error) {
		resp, err := l.client.Get(l.base + "/healthz")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	}, "server health check")
}

// poll calls f every 100 ms until it says done, fails, or timeout passes.
func poll(ctx context.Context, timeout time.Duration, f func() (bool, error), what string) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := f()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not ready after %s", what, timeout)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (l *load) since() int64 { return int64(time.Since(l.start)) }

type event struct {
	at    time.Duration
	churn bool
}

// run is the measured part: viewers join, churn, and the books close.
func (l *load) run(ctx context.Context) (*Report, error) {
	cfg := l.cfg
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	var events []event
	for i := range cfg.Peers {
		events = append(events, event{at: time.Duration(int64(cfg.Ramp) * int64(i) / int64(cfg.Peers))})
	}
	nChurn := int(cfg.Churn*float64(cfg.Peers) + 0.5)
	for range nChurn {
		events = append(events, event{at: cfg.Ramp + time.Duration(rng.Int64N(int64(cfg.Duration-cfg.Ramp)+1)), churn: true})
	}
	slices.SortStableFunc(events, func(a, b event) int { return cmp.Compare(a.at, b.at) })

	l.m.bucketLen = int64(5 * time.Second)
	l.m.buckets = make([]bucket, int64(cfg.Duration)/l.m.bucketLen+1)

	runCtx, cancelAll := context.WithCancel(ctx)
	defer cancelAll()
	lo0, loErr := readLoopback()
	udp0, udpErr := readUDP()
	l.mu.Lock()
	l.udp0 = udp0
	l.mu.Unlock()
	cpu0 := cpuTime()
	l.start = time.Now()
	l.startWall = l.start.UnixNano()
	endAt := time.NewTimer(cfg.Duration)
	defer endAt.Stop()
	progress := time.NewTicker(cfg.ProgressEvery)
	defer progress.Stop()
	sample := time.NewTicker(time.Second)
	defer sample.Stop()
	load0 := loadAvg()
	lag := startLagProbe(runCtx)

	var failed error
loop:
	for {
		var next <-chan time.Time
		if len(events) > 0 {
			next = time.After(max(0, events[0].at-time.Since(l.start)))
		}
		select {
		case <-ctx.Done():
			failed = ctx.Err()
			break loop
		case <-endAt.C:
			break loop
		case <-progress.C:
			l.progress()
		case <-sample.C:
			l.sample()
		case <-next:
			ev := events[0]
			events = events[1:]
			if ev.churn {
				l.leaveRandom(rng)
			}
			if err := l.join(runCtx); err != nil {
				failed = err
				break loop
			}
		}
	}

	// Close the books at the end time, then take the viewers down.
	l.mu.Lock()
	l.ended = true
	l.end = l.since()
	for _, v := range l.viewers {
		if v.left {
			continue
		}
		if v.pl.Started() {
			l.m.gaps = append(l.m.gaps, v.maxGap)
		}
		l.finishPlayer(v, l.end)
	}
	l.mu.Unlock()
	lo1, _ := readLoopback()
	udp1, _ := readUDP()
	cpu1 := cpuTime()
	load1 := loadAvg()
	cancelAll()
	l.wg.Wait()
	for _, tr := range l.transports {
		tr.CloseIdleConnections()
	}
	lagDist := lag.dist()
	if failed != nil {
		return nil, failed
	}
	rep := l.report()
	rep.Perf.CPUCores = round((cpu1 - cpu0).Seconds() / time.Duration(l.end).Seconds())
	rep.Perf.LoadAvg = [2]float64{load0, load1}
	rep.Perf.SchedLagMs = lagDist
	if udpErr == nil {
		rep.Loopback.UDP = udp1.sub(udp0)
	}
	if loErr == nil {
		lb := &rep.Loopback
		lb.Isolated, lb.Bytes, lb.Packets = lo0.isolated, lo1.txBytes-lo0.txBytes, lo1.txPackets-lo0.txPackets
		if lb.Isolated && lb.PayloadBytes > 0 {
			o := round(float64(lb.Bytes-lb.PayloadBytes) / float64(lb.PayloadBytes))
			rep.ControlOverhead = &o
		}
	}
	return rep, nil
}

// join starts one more viewer now.
func (l *load) join(ctx context.Context) error {
	l.mu.Lock()
	v := &viewer{idx: len(l.viewers), joined: l.since(), done: make(chan struct{})}
	v.pl = l.newPlayer()
	l.viewers = append(l.viewers, v)
	l.mu.Unlock()

	vctx, cancel := context.WithCancel(ctx)
	v.cancel = cancel
	conn, err := signaling.DialWebSocket(vctx, "ws"+strings.TrimPrefix(l.base, "http")+"/api/signal")
	if err != nil {
		cancel()
		return fmt.Errorf("viewer %d: dial tracker: %w", v.idx, err)
	}
	n, err := node.New(node.Config{
		Stream:       l.stream,
		Signal:       conn,
		LoopbackOnly: true,
		Fetch:        l.fetcher(v.idx),
		Engine:       swarm.Config{Upload: l.cfg.Upload, Rand: rand.New(rand.NewPCG(l.cfg.Seed, uint64(v.idx)+1))},
		Logger:       l.cfg.Logger.With("viewer", v.idx),
		OnDeliver:    func(d node.Delivery) { l.deliver(v, d) },
	})
	if err != nil {
		cancel()
		conn.Close("bad config")
		return fmt.Errorf("viewer %d: %w", v.idx, err)
	}
	v.node = n
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer close(v.done)
		v.err = n.Run(vctx)
		if v.err != nil {
			l.cfg.Logger.Warn("viewer stopped", "viewer", v.idx, "err", v.err)
		}
	}()
	return nil
}

// fetcher is viewer idx's HTTP fallback. Each viewer fetches from an
// address of its own in 127.0.0.0/8, as viewers on their own machines
// would, so that the server's per-address limits apply per viewer and not
// to the whole swarm at once.
func (l *load) fetcher(idx int) node.FetchFunc {
	local := &net.TCPAddr{IP: net.IPv4(127, 0, byte(1+idx/250), byte(2+idx%250))}
	tr := &http.Transport{
		DialContext:     (&net.Dialer{LocalAddr: local, Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:    4,
		IdleConnTimeout: 30 * time.Second,
	}
	l.mu.Lock()
	l.transports = append(l.transports, tr)
	l.mu.Unlock()
	hf := node.HTTPFetcher(l.base, &http.Client{Transport: tr})
	return func(ctx context.Context, stream string, seq uint64) (wire.Chunk, error) {
		c, err := hf(ctx, stream, seq)
		l.fetches.Add(1)
		if err != nil {
			l.fetchFailed.Add(1)
			l.cfg.Logger.Debug("fallback fetch failed", "viewer", idx, "seq", seq, "err", err)
		} else {
			l.fetchBytes.Add(int64(wire.EncodedLen(c)))
		}
		return c, err
	}
}

// leaveRandom takes a random online viewer down, as a viewer closing the
// tab would.
func (l *load) leaveRandom(rng *rand.Rand) {
	l.mu.Lock()
	var online []*viewer
	for _, v := range l.viewers {
		if !v.left {
			online = append(online, v)
		}
	}
	if len(online) == 0 {
		l.mu.Unlock()
		return
	}
	v := online[rng.IntN(len(online))]
	v.left, v.leftAt = true, l.since()
	l.finishPlayer(v, v.leftAt)
	l.mu.Unlock()
	v.cancel()
}

// keyEvery is how many chunks apart the model player's join points are
// on the synthetic stream: one a second.
func (l *load) keyEvery() uint64 {
	iv := l.cfg.ChunkInterval
	return uint64(max(1, (time.Second+iv/2)/iv))
}

// deliver is a node's OnDeliver, on that node's loop.
func (l *load) deliver(v *viewer, d node.Delivery) {
	now := l.since()
	c := d.Chunk
	size := int64(len(c.Payload))
	pub := c.Timestamp*int64(time.Millisecond) - l.startWall
	// The synthetic stream has no keyframes: score it, as the simulator
	// does, with one a second.
	key := c.Seq%l.keyEvery() == 0
	if l.cfg.FFmpeg {
		key = c.Flags&wire.FlagKeyframe != 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended || v.left {
		return
	}
	m := &l.m
	m.delivLatency.Add(now - pub)
	b := m.bucketAt(now)
	switch {
	case !d.FromOrigin:
		m.fromPeers += size
		b.peers += size
	case d.From == "":
		m.fromHTTP += size
		b.http += size
	default:
		m.fromPush += size
		b.push += size
	}
	if v.delivered == 0 {
		v.firstDel = now
	} else if v.pl.Started() {
		v.maxGap = max(v.maxGap, now-v.lastDel)
	}
	v.delivered++
	v.lastDel = now
	l.playerDeliver(v, c.Seq, now, pub, key)
}

func (l *load) sample() {
	g := runtime.NumGoroutine()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m.peakGoroutines = max(l.m.peakGoroutines, g)
	online := 0
	for _, v := range l.viewers {
		if !v.left {
			online++
		}
	}
	b := l.m.bucketAt(l.since())
	b.viewers = max(b.viewers, online)
	if u, err := readUDP(); err == nil {
		b.udpDrops = u.RcvbufErrors - l.udp0.RcvbufErrors
	}
}

func (l *load) progress() {
	if l.cfg.Progress == nil {
		return
	}
	l.mu.Lock()
	online, started := 0, 0
	for _, v := range l.viewers {
		if !v.left {
			online++
			if v.pl.Started() {
				started++
			}
		}
	}
	m := &l.m
	off := ratio(m.fromPeers, m.fromPeers+m.fromPush+m.fromHTTP)
	line := fmt.Sprintf("swarmload: %3.0fs of %s  viewers %d (%d playing)  offload %.1f%%  behind live at delivery p50 %.0f ms, at play p50 %.0f ms  fetches %d\n",
		time.Since(l.start).Seconds(), l.cfg.Duration, online, started, off*100,
		m.delivLatency.Quantile(.5), m.playLatency.Quantile(.5), l.fetches.Load())
	l.mu.Unlock()
	io.WriteString(l.cfg.Progress, line)
}

// report builds the report once every viewer's Run has returned.
func (l *load) report() *Report {
	cfg := l.cfg
	m := &l.m
	r := &Report{Seconds: round(time.Duration(l.end).Seconds()), EngineCommit: buildCommit()}
	r.Scenario = Scenario{Peers: cfg.Peers, Duration: cfg.Duration.String(), Ramp: cfg.Ramp.String(), Churn: cfg.Churn,
		Seed: cfg.Seed, Source: "synthetic", Rate: cfg.Rate, ChunkInterval: cfg.ChunkInterval.String(),
		StartupChunks: cfg.StartupChunks, Neighbours: cfg.Neighbours, OriginLinks: cfg.OriginLinks, OriginCopies: cfg.OriginCopies,
		Upload: cfg.Upload}
	if cfg.FFmpeg {
		r.Scenario.Source = "ffmpeg"
	} else {
		r.Scenario.ChunkBytes = cfg.chunkBytes()
	}

	var uploads, uploadRates []float64
	var eng EngineTotals
	for _, v := range l.viewers {
		r.Viewers.Joined++
		if v.left {
			r.Viewers.Left++
		}
		if v.delivered == 0 {
			r.Viewers.NoChunks++
		}
		if v.err != nil {
			r.Viewers.Errors++
		}
		st := v.node.Stats() // Run has returned
		eng.Chunks += st.Chunks
		eng.Duplicates += st.Duplicates
		eng.Pushed += st.Pushed
		eng.Refused += st.Refused
		eng.ParentChanges += st.ParentChanges
		eng.Preempted += st.Preempted
		eng.Refusals += st.Refusals
		eng.Orphaned += st.Orphaned
		eng.Starved += st.Starved
		eng.Loops += st.Loops
		eng.Unanswered += st.Unanswered
		eng.Requests += st.Requests
		eng.Fetches += st.Fetches
		eng.Missed += st.Missed
		eng.Dropped += st.Dropped
		eng.SendDropped += st.SendDropped
		eng.BadMessages += st.BadMessages
		eng.InboxDropped += st.InboxDropped
		eng.VerifyFailures += st.VerifyFailures
		eng.DeliveredBad += st.DeliveredBad
		until := l.end
		if v.left {
			until = v.leftAt
		}
		if secs := time.Duration(until - v.joined).Seconds(); secs > 0 {
			mbps := float64(st.Uploaded) * 8 / 1e6 / secs
			uploads = append(uploads, mbps)
			uploadRates = append(uploadRates, mbps*1e6/float64(cfg.Rate))
		}
	}
	r.Viewers.Online = r.Viewers.Joined - r.Viewers.Left
	r.Viewers.Started = m.players.Started
	r.Viewers.NeverStarted = r.Viewers.Joined - m.players.Started
	r.Engine = eng

	r.StartupMs = distOf(nsToMs(m.startup))
	r.LatencyMs = m.playLatency.Dist()
	r.DeliveryLatencyMs = m.delivLatency.Dist()
	r.Rebuffering = m.players.Rebuffering()

	r.Payload = Payload{FromPeers: m.fromPeers, FromOriginPush: m.fromPush, FromOriginHTTP: m.fromHTTP}
	delivered := m.fromPeers + m.fromPush + m.fromHTTP
	r.Offload = ratio(m.fromPeers, delivered)
	r.DuplicateRatio = ratio(int64(eng.Duplicates), int64(eng.Chunks))
	var meanChunk int64
	if eng.Chunks > 0 {
		meanChunk = delivered / int64(eng.Chunks)
	}
	r.Loopback.PayloadBytes = delivered + int64(eng.Duplicates)*meanChunk

	secs := time.Duration(l.end).Seconds()
	rateBytes := float64(cfg.Rate) / 8
	r.Origin = Origin{PushRate: round(float64(m.fromPush) / secs / rateBytes),
		HTTPFetches: int(l.fetches.Load()), HTTPFailed: int(l.fetchFailed.Load()), HTTPBytes: l.fetchBytes.Load(),
		HTTPMeanMbps: round(float64(l.fetchBytes.Load()) * 8 / 1e6 / secs)}
	slices.Sort(uploads)
	slices.Sort(uploadRates)
	r.UploadMbps, r.UploadRate = distOf(uploads), distOf(uploadRates)

	gaps := nsToMs(m.gaps)
	if len(gaps) > 0 {
		r.GapMs = GapDist{Max: round(gaps[len(gaps)-1]), P99: round(pick(gaps, .99)), P50: round(pick(gaps, .5))}
	}
	var drops int64
	for i, b := range m.buckets {
		t := int64(i) * m.bucketLen
		if t >= l.end-int64(time.Second) {
			break // the last, partial bucket
		}
		s := Sample{T: time.Duration(t).Seconds(), Viewers: b.viewers, Offload: ratio(b.peers, b.peers+b.push+b.http),
			UDPDrops: max(b.udpDrops-drops, 0)}
		drops = max(drops, b.udpDrops)
		if b.latN > 0 {
			s.LatencyMs = round(b.latSum / float64(b.latN))
		}
		r.Series = append(r.Series, s)
	}
	r.Perf = Perf{WallSeconds: secs, NumCPU: runtime.NumCPU(), Goroutines: m.peakGoroutines, GoVersion: runtime.Version()}
	return r
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// buildCommit is the VCS revision in the binary's build info.
func buildCommit() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}
