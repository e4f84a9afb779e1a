package sim

import (
	"math"
	"slices"
	"time"

	"github.com/shoal-live/shoal/shared/swarm"
	"github.com/shoal-live/shoal/tools/swarmsim/hist"
	"github.com/shoal-live/shoal/tools/swarmsim/playmodel"
)

// Report is what a run measured. It is a pure function of the scenario:
// two runs of one seed give equal reports.
type Report struct {
	Scenario   Scenario `json:"scenario"`
	SimSeconds float64  `json:"simSeconds"`
	Events     uint64   `json:"events"`
	// Truncated is set when Options.MaxWall ended the run before
	// Scenario.Duration: the figures cover SimSeconds only.
	Truncated bool `json:"truncated,omitempty"`

	Viewers ViewerCounts `json:"viewers"`
	// StartupMs is join → first chunk played, per viewer that started.
	StartupMs Dist `json:"startupMs"`
	// LatencyMs is how far behind live each chunk played was as it began
	// to play, counted as the player counts it (package playmodel): due
	// time − publish time + one chunk interval, its own media.
	LatencyMs   Dist        `json:"latencyMs"`
	Rebuffering Rebuffering `json:"rebuffering"`
	// Offload is the share of payload bytes delivered to viewers that
	// other viewers sent (the origin's pushes and HTTP are not offloaded).
	Offload float64 `json:"offload"`
	Payload Payload `json:"payload"`
	// ControlOverhead is every non-payload byte (wire headers, control
	// messages, per-message overhead, HTTP headers) per payload byte.
	ControlOverhead float64 `json:"controlOverhead"`
	// DuplicateRatio is Stats.Duplicates / Stats.Chunks over all viewers.
	DuplicateRatio float64      `json:"duplicateRatio"`
	Origin         OriginUse    `json:"origin"`
	Upload         []ClassUse   `json:"upload"`
	Engine         EngineTotals `json:"engine"`
	Links          Links        `json:"links"`
	// Isolated is what the viewers that reach nobody over WebRTC
	// (Scenario.Isolated) saw, when there are such viewers.
	Isolated *Isolated `json:"isolated,omitempty"`
	// GapMs is the longest time between two deliveries after playback
	// started, at viewers still online at the end.
	GapMs        GapDist      `json:"gapMs"`
	Conservation Conservation `json:"conservation"`
	LatencyCDF   []Point      `json:"latencyCDF"`
	Series       []Sample     `json:"series"`
}

// ViewerCounts counts viewers.
type ViewerCounts struct {
	Joined       int `json:"joined"`
	Left         int `json:"left"`
	Online       int `json:"online"`  // at the end
	Started      int `json:"started"` // began playback
	NeverStarted int `json:"neverStarted"`
	Refused      int `json:"refused"` // the tracker refused the join
}

// Isolated is what the isolated viewers alone saw.
type Isolated struct {
	Viewers     int         `json:"viewers"` // that joined and finished (left or stayed to the end)
	Started     int         `json:"started"`
	StartupMs   Dist        `json:"startupMs"`
	LatencyMs   Dist        `json:"latencyMs"`
	Rebuffering Rebuffering `json:"rebuffering"`
}

// Dist summarises a distribution.
type Dist = hist.Dist

// Rebuffering sums the players' stalls.
type Rebuffering = playmodel.Rebuffering

// Payload counts chunk payload bytes delivered to viewers, by source.
type Payload struct {
	FromPeers      int64 `json:"fromPeers"`
	FromOriginPush int64 `json:"fromOriginPush"`
	FromOriginHTTP int64 `json:"fromOriginHTTP"`
}

// OriginUse is the origin's load.
type OriginUse struct {
	UploadBytes       int64   `json:"uploadBytes"` // to viewers over data channels, with overhead
	UploadUtilisation float64 `json:"uploadUtilisation"`
	HTTPBytes         int64   `json:"httpBytes"` // fallback responses, with headers
	HTTPFetches       int     `json:"httpFetches"`
	HTTPFailed        int     `json:"httpFailed"`
	HTTPPeakMbps      float64 `json:"httpPeakMbps"` // busiest second
	HTTPMeanMbps      float64 `json:"httpMeanMbps"`
}

// ClassUse is the upload use of one capacity class.
type ClassUse struct {
	Mult        float64 `json:"mult"`
	Share       float64 `json:"share"`
	Viewers     int     `json:"viewers"`
	Utilisation float64 `json:"utilisation"` // bytes sent / (capacity × time online)
}

// EngineTotals sums the viewers' swarm.Stats and the driver's counters.
type EngineTotals struct {
	Chunks      int `json:"chunks"`
	Duplicates  int `json:"duplicates"`
	Requests    int `json:"requests"`
	Fetches     int `json:"fetches"`
	Probes      int `json:"probes"` // of which for chunks predicted due, unannounced (no parents)
	Missed      int `json:"missed"`
	Dropped     int `json:"dropped"`
	SendDropped int `json:"sendDropped"` // chunk sends over MaxBuffered
	SendNoLink  int `json:"sendNoLink"`  // sends to a channel not open
	Disconnects int `json:"disconnects"` // Disconnect actions
}

// Links counts connection set-up.
type Links struct {
	Introduced    int `json:"introduced"` // neighbour messages acted on
	Opened        int `json:"opened"`
	NATFailed     int `json:"natFailed"` // attempts that never opened: NAT-blocked pair, or the answerer gave up first
	Drops         int `json:"drops"`     // drop messages sent to the tracker
	RelayErrors   int `json:"relayErrors"`
	PreDrops      int `json:"preDrops"` // see trackerLeave
	SignalingMsgs int `json:"signalingMsgs"`
	LiveMsgs      int `json:"liveMsgs"` // of which "live" (the tracker's live edge)
}

// GapDist is the per-viewer longest delivery gap.
type GapDist struct {
	Max float64 `json:"max"`
	P99 float64 `json:"p99"`
	P50 float64 `json:"p50"`
}

// Conservation accounts for every byte put on a link: Sent = Received +
// LostClosed + LostSender + LostDropped + InFlight, and likewise for HTTP.
type Conservation struct {
	Sent         int64 `json:"sent"`
	Received     int64 `json:"received"`
	LostClosed   int64 `json:"lostClosed"` // reached a closed channel or an offline viewer
	LostSender   int64 `json:"lostSender"` // the sender left before it was out
	LostDropped  int64 `json:"lostDropped"`
	InFlight     int64 `json:"inFlight"`
	LossDelayed  int   `json:"lossDelayed"`
	HTTPSent     int64 `json:"httpSent"`
	HTTPReceived int64 `json:"httpReceived"`
	HTTPLost     int64 `json:"httpLost"`
	HTTPInFlight int64 `json:"httpInFlight"`
}

// Point is one point of a CDF.
type Point = hist.Point

// Sample is one bucket of the time series.
type Sample struct {
	T         float64 `json:"t"` // bucket start, seconds
	Offload   float64 `json:"offload"`
	Viewers   int     `json:"viewers"`
	HTTPMbps  float64 `json:"httpMbps"`
	LatencyMs float64 `json:"latencyMs"` // mean over chunks played
	// LivePerViewer is "live" messages per viewer online per second.
	LivePerViewer float64 `json:"livePerViewer"`
}

type bucket struct {
	peers, push, http int64
	httpOut           int64
	latSum            float64
	latN              int64
	viewers           int
	live              int64
	viewerNs          float64 // viewers online × ns, for the per-viewer rates
}

func (b *bucket) add(a swarm.Deliver, n int64) {
	switch {
	case !a.FromOrigin:
		b.peers += n
	case a.From == "":
		b.http += n
	default:
		b.push += n
	}
}

func (b *bucket) latency(_ int64, ns int64) {
	b.latSum += float64(ns) / 1e6
	b.latN++
}

type classUse struct {
	busy, online int64
	viewers      int
}

type metrics struct {
	joined, left, started, joinRefused int
	startup                            []int64
	latency                            hist.Hist

	isoViewers int // isolated viewers finished
	isoStartup []int64
	isoLatency hist.Hist
	isoPlayers playmodel.Totals
	liveMsgs   int

	players                                   playmodel.Totals
	fromPeers, fromPush, fromHTTP             int64
	sent, sentPayload, received               int64
	lostClosed, lostSender, lostDropped       int64
	lossDelayed                               int
	originUp                                  int64
	httpBytes, httpPayload, httpReceived      int64
	httpLost                                  int64
	httpSec                                   []int64
	fetches, fetchFailed                      int
	sendDropped, sendNoLink, disconnects      int
	drops, natFailed, opened, introduced      int
	relayErrors, sigErrors, sigMsgs, preDrops int
	pendingMirror                             []int32

	eng       swarm.Stats
	class     []classUse
	originUse float64
	buckets   []bucket
	bucketLen int64
	gaps      []int64
}

func (m *metrics) init(s *Sim) {
	m.class = make([]classUse, len(s.sc.UploadMix))
	m.bucketLen = int64(max(time.Second, (s.sc.Duration.D() / 120).Round(time.Second)))
	m.buckets = make([]bucket, s.end/m.bucketLen+1)
	m.httpSec = make([]int64, s.end/int64(time.Second)+1)
}

func (m *metrics) series(s *Sim) *bucket { return m.bucketAt(s.now) }

func (m *metrics) bucketAt(t int64) *bucket {
	return &m.buckets[min(t/m.bucketLen, int64(len(m.buckets)-1))]
}

func (m *metrics) httpOut(s *Sim, at, size int64) {
	m.httpBytes += size
	m.httpPayload += int64(s.chunkLen)
	m.httpSec[min(at/int64(time.Second), int64(len(m.httpSec)-1))] += size
	m.bucketAt(at).httpOut += size
}

func (m *metrics) sample(s *Sim) {
	b := m.bucketAt(s.now)
	b.viewers = max(b.viewers, len(s.online))
	b.viewerNs += float64(len(s.online)) * float64(time.Second)
}

// finishPeer closes a viewer's books when it leaves or the run ends.
func (s *Sim) finishPeer(p *peer) {
	busy := p.upBusy - max(0, p.upFree-s.now)
	online := s.now - p.joined
	if p.origin {
		if online > 0 {
			s.m.originUse = float64(busy) / float64(online)
		}
		return
	}
	s.finishPlayer(p, s.now)
	st := p.eng.Stats()
	e := &s.m.eng
	e.Chunks += st.Chunks
	e.Duplicates += st.Duplicates
	e.Requests += st.Requests
	e.Fetches += st.Fetches
	e.Probes += st.Probes
	e.Missed += st.Missed
	e.Dropped += st.Dropped
	c := &s.m.class[p.class]
	c.busy += busy
	c.online += online
	c.viewers++
}

// finish closes the books at the end of the run.
func (s *Sim) finish() {
	for _, i := range s.online {
		p := s.peers[i]
		if p.pl.Started() {
			s.m.gaps = append(s.m.gaps, p.maxGap)
		}
		s.finishPeer(p)
	}
	s.finishPeer(s.peers[0])
}

func (s *Sim) report() *Report {
	m := &s.m
	r := &Report{Scenario: s.sc, SimSeconds: time.Duration(s.end).Seconds(), Events: s.events, Truncated: s.truncated}
	r.Viewers = ViewerCounts{Joined: m.joined, Left: m.left, Online: len(s.online), Started: m.players.Started,
		NeverStarted: m.joined - m.players.Started, Refused: m.joinRefused}

	st := slices.Clone(m.startup)
	slices.Sort(st)
	r.StartupMs = distOf(st)
	r.LatencyMs = m.latency.Dist()
	r.LatencyCDF = m.latency.CDF(200)
	r.Rebuffering = m.players.Rebuffering()

	r.Payload = Payload{FromPeers: m.fromPeers, FromOriginPush: m.fromPush, FromOriginHTTP: m.fromHTTP}
	r.Offload = ratio(m.fromPeers, m.fromPeers+m.fromPush+m.fromHTTP)
	payload := m.sentPayload + m.httpPayload
	r.ControlOverhead = ratio(m.sent-m.sentPayload+m.httpBytes-m.httpPayload, payload)
	r.DuplicateRatio = ratio(int64(m.eng.Duplicates), int64(m.eng.Chunks))

	var peak int64
	for _, b := range m.httpSec {
		peak = max(peak, b)
	}
	r.Origin = OriginUse{UploadBytes: m.originUp, UploadUtilisation: round(m.originUse), HTTPBytes: m.httpBytes,
		HTTPFetches: m.fetches, HTTPFailed: m.fetchFailed, HTTPPeakMbps: round(float64(peak) * 8 / 1e6),
		HTTPMeanMbps: round(float64(m.httpBytes) * 8 / 1e6 / time.Duration(s.end).Seconds())}
	for i, c := range m.class {
		r.Upload = append(r.Upload, ClassUse{Mult: s.sc.UploadMix[i].Mult, Share: s.sc.UploadMix[i].Share,
			Viewers: c.viewers, Utilisation: ratio(c.busy, c.online)})
	}
	if s.sc.Isolated > 0 {
		st := slices.Clone(m.isoStartup)
		slices.Sort(st)
		r.Isolated = &Isolated{Viewers: m.isoViewers, Started: m.isoPlayers.Started, StartupMs: distOf(st),
			LatencyMs: m.isoLatency.Dist(), Rebuffering: m.isoPlayers.Rebuffering()}
	}
	r.Engine = EngineTotals{Chunks: m.eng.Chunks, Duplicates: m.eng.Duplicates, Requests: m.eng.Requests,
		Fetches: m.eng.Fetches, Probes: m.eng.Probes, Missed: m.eng.Missed, Dropped: m.eng.Dropped,
		SendDropped: m.sendDropped, SendNoLink: m.sendNoLink, Disconnects: m.disconnects}
	r.Links = Links{Introduced: m.introduced, Opened: m.opened, NATFailed: m.natFailed, Drops: m.drops,
		RelayErrors: m.relayErrors, PreDrops: m.preDrops, SignalingMsgs: m.sigMsgs, LiveMsgs: m.liveMsgs}

	gaps := slices.Clone(m.gaps)
	slices.Sort(gaps)
	if len(gaps) > 0 {
		r.GapMs = GapDist{Max: ms(gaps[len(gaps)-1]), P99: ms(pick(gaps, .99)), P50: ms(pick(gaps, .5))}
	}

	r.Conservation = Conservation{Sent: m.sent, Received: m.received, LostClosed: m.lostClosed,
		LostSender: m.lostSender, LostDropped: m.lostDropped, LossDelayed: m.lossDelayed,
		HTTPSent: m.httpBytes, HTTPReceived: m.httpReceived, HTTPLost: m.httpLost}
	for _, e := range s.q.h {
		switch ev := &s.slab[e.ev]; ev.kind {
		case evMsg, evMsgDone:
			r.Conservation.InFlight += int64(ev.size)
		case evFetchResp, evFetchDone:
			r.Conservation.HTTPInFlight += int64(ev.size)
		}
	}

	for i, b := range m.buckets {
		t := int64(i) * m.bucketLen
		if t >= s.end {
			break
		}
		sm := Sample{T: time.Duration(t).Seconds(), Viewers: b.viewers,
			Offload:  ratio(b.peers, b.peers+b.push+b.http),
			HTTPMbps: round(float64(b.httpOut) * 8 / 1e6 / time.Duration(m.bucketLen).Seconds())}
		if b.latN > 0 {
			sm.LatencyMs = round(b.latSum / float64(b.latN))
		}
		if b.viewerNs > 0 {
			sm.LivePerViewer = round(float64(b.live) * 1e9 / b.viewerNs)
		}
		r.Series = append(r.Series, sm)
	}
	return r
}

func distOf(sorted []int64) Dist {
	if len(sorted) == 0 {
		return Dist{}
	}
	var sum float64
	for _, v := range sorted {
		sum += float64(v)
	}
	return Dist{N: int64(len(sorted)), Mean: round(sum / float64(len(sorted)) / 1e6),
		P50: ms(pick(sorted, .5)), P90: ms(pick(sorted, .9)), P95: ms(pick(sorted, .95)),
		P99: ms(pick(sorted, .99)), Max: ms(sorted[len(sorted)-1])}
}

func pick(sorted []int64, q float64) int64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(ns int64) float64 { return round(float64(ns) / 1e6) }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return round(float64(a) / float64(b))
}

// round keeps six significant decimals, so reports read and diff well.
func round(f float64) float64 { return hist.Round(f) }
