package sim

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/swarm"
	"github.com/shoal-live/shoal/shared/wire"
	"github.com/shoal-live/shoal/signal/tracker"
	"github.com/shoal-live/shoal/tools/swarmsim/playmodel"
)

// Costs charged to the links.
const (
	msgOverhead  = 28   // bytes per data-channel message: SCTP, DTLS, UDP, IP
	httpOverhead = 300  // bytes of HTTP request and response headers per fetch
	packetBytes  = 1200 // data-channel packet payload, for loss
	originKeep   = 256  // chunks the origin's store serves (signal/origin default)
	streamName   = "live"
)

// Options are knobs of a run that are not part of the scenario.
type Options struct {
	// Progress, when set, receives a status line every ProgressEvery of
	// wall time (default 2 s).
	Progress      io.Writer
	ProgressEvery time.Duration
	// OnDeliver and OnPlay observe every delivery to and every chunk played
	// by a viewer (tests). peer is the viewer's index, from 1.
	OnDeliver func(peer int, seq uint64, at time.Duration, fromOrigin bool)
	OnPlay    func(peer int, seq uint64, at time.Duration)
	// MaxWall, when set, ends the run early after this much wall time;
	// the report then covers the simulated time reached and says so.
	// Such a report is not reproducible.
	MaxWall time.Duration
}

type evKind uint8

const (
	evJoin         evKind = iota // a viewer opens the page
	evLeave                      // a viewer leaves
	evChurn                      // a random viewer leaves and a new one joins
	evTrackerJoin                // the join reaches the tracker
	evTrackerLeave               // the signaling connection closes
	evSig                        // a tracker message reaches a peer
	evRelay                      // a peer's offer, answer or drop reaches the tracker
	evConnOpen                   // a data channel opens at both ends
	evConnFail                   // ICE gives up (NAT)
	evConnDown                   // a peer notices that the other end closed
	evMsg                        // a message's last byte reaches the receiver
	evMsgDone                    // the receiver's download has taken it
	evPublish                    // the origin cuts a chunk
	evTick                       // a tick slot: every peer in it gets a Tick
	evFetchReq                   // a fallback request reaches the origin
	evFetchResp                  // the response's last byte reaches the viewer
	evFetchDone                  // the viewer's download has taken it
	evFetchFail                  // the 404 reaches the viewer
	evSample                     // per-second bookkeeping
)

// event is one slab entry. Fields are used per kind.
type event struct {
	kind evKind
	dir  uint8
	to   int32 // target peer
	from int32 // sending peer (messages)
	size int32
	conn *conn
	msg  wire.Message
	sig  *signaling.Message
	aux  int64 // upload duration of a message, fetch seq, …
	fin  int64 // when a message left the sender's upload
}

// Sim is one run. It is not safe for concurrent use.
type Sim struct {
	sc   Scenario
	opt  Options
	rng  *rand.Rand
	base time.Time

	now    int64
	end    int64
	q      queue
	slab   []event
	free   []int32
	seq    uint64
	events uint64
	err    error

	peers  []*peer // index 0 is the origin
	byID   map[string]int32
	online []int32 // online viewers, for churn picks
	slots  [][]int32
	nslots int

	tr     *tracker.Tracker
	sigOut []sigOut

	payload   []byte
	first     uint64 // the first chunk's sequence number
	published uint64 // chunks published so far: first .. first+published-1
	keyframe  uint64 // newest keyframe chunk published
	httpFree  int64
	httpNs    float64

	interval  int64
	chunkLen  int
	truncated bool
	m         metrics
}

type peer struct {
	idx      int32
	id       string
	pid      swarm.PeerID
	eng      *swarm.Engine
	origin   bool
	isolated bool // no WebRTC link of it ever opens (Scenario.Isolated)
	class    int8
	half     int64   // one-way latency / 2, ns
	upNs     float64 // ns per byte
	downNs   float64 // ns per byte, 0 = unlimited

	upFree, downFree int64
	upBusy           int64 // ns of upload serialisation
	online           bool
	tracked          bool // the tracker knows it
	joined, left     int64
	onlinePos        int32
	links            map[swarm.PeerID]*link
	tnb              []int32 // tracker neighbours, mirrored from its messages

	pl          *playmodel.Player
	firstDel    int64
	lastDeliver int64
	maxGap      int64
}

type linkState uint8

const (
	pending linkState = iota
	open
	closed
)

// link is one end's view of a connection, like shared/node's link.
type link struct {
	remote int32
	origin bool
	state  linkState
	conn   *conn
	side   uint8 // this end's index in conn
}

// conn is a connection attempt once the answer has reached the initiator.
type conn struct {
	peer   [2]int32
	rec    [2]*link
	lat    int64 // one-way, ns
	closed bool
	dir    [2]dirState // by sending side
}

type dirState struct {
	lastArrive int64
	queued     []qchunk // messages still in the sender's upload queue
	head       int
	bytes      int64
}

type qchunk struct {
	fin  int64
	size int64
}

func (d *dirState) push(fin, size int64) {
	if d.head > 32 && d.head*2 > len(d.queued) {
		d.queued = append(d.queued[:0], d.queued[d.head:]...)
		d.head = 0
	}
	d.queued = append(d.queued, qchunk{fin, size})
	d.bytes += size
}

// buffered returns the bytes not yet through the upload at now.
func (d *dirState) buffered(now int64) int64 {
	for d.head < len(d.queued) && d.queued[d.head].fin <= now {
		d.bytes -= d.queued[d.head].size
		d.head++
	}
	return d.bytes
}

type sigOut struct {
	to int32
	m  signaling.Message
}

// session is a peer's tracker session: it queues the tracker's messages,
// which the simulator delivers after the signaling latency.
type session struct {
	s    *Sim
	peer int32
}

func (ss session) Deliver(m signaling.Message) bool {
	ss.s.sigOut = append(ss.s.sigOut, sigOut{ss.peer, m})
	ss.s.mirror(ss.peer, &m)
	return true
}

// Run simulates sc and returns its report.
func Run(sc Scenario, opt Options) (*Report, error) {
	sc, err := sc.WithDefaults()
	if err != nil {
		return nil, err
	}
	s := newSim(sc, opt)
	if err := s.run(); err != nil {
		return nil, err
	}
	return s.report(), nil
}

func newSim(sc Scenario, opt Options) *Sim {
	if opt.ProgressEvery <= 0 {
		opt.ProgressEvery = 2 * time.Second
	}
	s := &Sim{
		sc:       sc,
		opt:      opt,
		rng:      rand.New(rand.NewPCG(sc.Seed, 0x5eed)),
		base:     time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		end:      int64(sc.Duration),
		byID:     make(map[string]int32),
		interval: int64(sc.ChunkInterval),
		chunkLen: sc.chunkBytes(),
	}
	s.payload = make([]byte, s.chunkLen)
	// Numbered as signal/origin numbers a run's chunks (origin.FirstSeq):
	// from its start time in milliseconds, so that the engines and the
	// tracker see numbers as large as real ones.
	s.first = uint64(s.base.UnixMilli())
	if sc.OriginHTTP > 0 {
		s.httpNs = 8e9 / float64(sc.OriginHTTP)
	}
	s.nslots = int(sc.TickInterval.D() / time.Millisecond)
	s.slots = make([][]int32, s.nslots)
	total := sc.Peers + sc.Flash + int(math.Round(sc.Churn*float64(sc.Peers)))
	s.tr = tracker.New(tracker.Config{
		Neighbours:  sc.Neighbours,
		MaxPeers:    total + 1,
		OriginLinks: sc.OriginLinks,
		Now:         s.clock,
		Rand:        rand.New(rand.NewPCG(sc.Seed, 0x7472)),
	})
	s.m.init(s)
	return s
}

func (s *Sim) run() error {
	// The origin, on the server.
	o := s.newPeer(true)
	s.trackerJoin(o)

	// The audience.
	for range s.sc.Peers {
		s.at(int64(s.rng.Float64()*float64(s.sc.Ramp)), event{kind: evJoin})
	}
	for range s.sc.Flash {
		s.at(int64(s.sc.FlashAt)+int64(s.rng.Float64()*float64(s.sc.FlashWindow)), event{kind: evJoin})
	}
	if churn := int(math.Round(s.sc.Churn * float64(s.sc.Peers))); churn > 0 && s.end > int64(s.sc.Ramp) {
		span := float64(s.end - int64(s.sc.Ramp))
		for range churn {
			s.at(int64(s.sc.Ramp)+int64(s.rng.Float64()*span), event{kind: evChurn})
		}
	}
	s.at(0, event{kind: evPublish})
	s.at(0, event{kind: evTick})
	s.at(0, event{kind: evSample})

	wall := time.Now()
	lastProgress := wall
	for s.q.len() > 0 && s.err == nil {
		top := s.q.peek()
		if top.at > s.end {
			break
		}
		s.q.pop()
		s.now = top.at
		ev := s.slab[top.ev]
		s.slab[top.ev] = event{}
		s.free = append(s.free, top.ev)
		s.events++
		s.dispatch(&ev)
		if s.events&0xffff == 0 && (s.opt.Progress != nil || s.opt.MaxWall > 0) {
			t := time.Now()
			if s.opt.MaxWall > 0 && t.Sub(wall) > s.opt.MaxWall {
				s.end, s.truncated = s.now, true
				break
			}
			if s.opt.Progress != nil && t.Sub(lastProgress) >= s.opt.ProgressEvery {
				lastProgress = t
				el := t.Sub(wall).Seconds()
				fmt.Fprintf(s.opt.Progress, "\rsim %7.1fs / %.0fs  wall %6.1fs  %5.2fM events/s  viewers %d  queue %d   ",
					time.Duration(s.now).Seconds(), time.Duration(s.end).Seconds(), el,
					float64(s.events)/el/1e6, len(s.online), s.q.len())
			}
		}
	}
	if s.opt.Progress != nil {
		el := time.Since(wall).Seconds()
		fmt.Fprintf(s.opt.Progress, "\rsim %7.1fs done  wall %6.1fs  %5.2fM events/s  %d events%20s\n",
			time.Duration(s.end).Seconds(), el, float64(s.events)/el/1e6, s.events, "")
	}
	if s.err != nil {
		return s.err
	}
	s.now = s.end
	s.finish()
	return nil
}

// at schedules ev at virtual time t.
func (s *Sim) at(t int64, ev event) {
	var i int32
	if n := len(s.free); n > 0 {
		i = s.free[n-1]
		s.free = s.free[:n-1]
		s.slab[i] = ev
	} else {
		i = int32(len(s.slab))
		s.slab = append(s.slab, ev)
	}
	s.seq++
	s.q.push(qent{at: t, seq: s.seq, ev: i})
}

func (s *Sim) fail(err error) {
	if s.err == nil {
		s.err = fmt.Errorf("at %v: %w", time.Duration(s.now), err)
	}
}

func (s *Sim) dispatch(e *event) {
	switch e.kind {
	case evJoin:
		p := s.newPeer(false)
		s.at(s.now+3*s.srvLat(p), event{kind: evTrackerJoin, to: p.idx})
	case evChurn:
		if len(s.online) > 0 {
			s.leave(s.peers[s.online[s.rng.IntN(len(s.online))]])
		}
		p := s.newPeer(false)
		s.at(s.now+3*s.srvLat(p), event{kind: evTrackerJoin, to: p.idx})
	case evLeave:
		if p := s.peers[e.to]; p.online {
			s.leave(p)
		}
	case evTrackerJoin:
		if p := s.peers[e.to]; p.online {
			s.trackerJoin(p)
		}
	case evTrackerLeave:
		s.trackerLeave(s.peers[e.to])
	case evSig:
		if p := s.peers[e.to]; p.online {
			s.onSignal(p, e.sig)
		}
	case evRelay:
		s.onRelay(s.peers[e.from], e.sig)
	case evConnOpen:
		s.connOpen(e.conn)
	case evConnFail:
		s.m.natFailed++
		for side := range 2 {
			if l := e.conn.rec[side]; alive(l, e.conn) {
				s.dropLink(s.peers[e.conn.peer[side]], l, true)
			}
		}
	case evConnDown:
		if l := e.conn.rec[e.dir]; alive(l, e.conn) {
			s.dropLink(s.peers[e.to], l, true)
		}
	case evMsg, evMsgDone:
		s.onMessage(e)
	case evPublish:
		s.publish()
	case evTick:
		s.tick()
	case evFetchReq:
		s.onFetchReq(e)
	case evFetchResp, evFetchDone, evFetchFail:
		s.onFetchResp(e)
	case evSample:
		s.m.sample(s)
		s.at(s.now+int64(time.Second), event{kind: evSample})
	}
}

func alive(l *link, c *conn) bool { return l != nil && l.state != closed && l.conn == c }

// newPeer creates a peer that comes online now.
func (s *Sim) newPeer(origin bool) *peer {
	p := &peer{idx: int32(len(s.peers)), origin: origin, online: true, joined: s.now, left: -1,
		links: make(map[swarm.PeerID]*link), firstDel: -1}
	rate := float64(s.sc.Rate)
	if origin {
		p.half = int64(s.sc.ServerLatency) / 2
		p.upNs = 8e9 / (s.sc.OriginCopies * rate)
	} else {
		lat := float64(s.sc.LatencyMin) + s.rng.Float64()*float64(s.sc.LatencyMax-s.sc.LatencyMin)
		p.half = int64(lat / 2)
		x := s.rng.Float64()
		p.class = int8(len(s.sc.UploadMix) - 1)
		for i, c := range s.sc.UploadMix {
			if x < c.Share {
				p.class = int8(i)
				break
			}
			x -= c.Share
		}
		p.isolated = s.sc.Isolated > 0 && s.rng.Float64() < s.sc.Isolated
		if m := s.sc.UploadMix[p.class].Mult; m > 0 {
			p.upNs = 8e9 / (m * rate)
		} else {
			p.upNs = math.Inf(1)
		}
		p.downNs = 8e9 / (s.sc.DownloadMult * rate)
	}
	cfg := swarm.Config{
		Origin:         origin,
		Stripes:        s.sc.Stripes,
		Upload:         s.upload(p),
		SlotShare:      s.sc.SlotShare,
		RepairAfter:    s.sc.RepairAfter.D(),
		StatusInterval: s.sc.StatusInterval.D(),
		Window:         s.sc.Window,
		JoinBacklog:    s.sc.JoinBacklog,
		RequestTimeout: s.sc.RequestTimeout.D(),
		FallbackAfter:  s.sc.FallbackAfter.D(),
		MaxInflight:    s.sc.MaxInflight,
		MaxFetches:     s.sc.MaxFetches,
		LonelyAfter:    s.sc.LonelyAfter.D(),
		Rand:           rand.New(rand.NewPCG(s.sc.Seed^0x656e67696e65, uint64(p.idx))),
	}
	if origin {
		cfg.MaxPeers = 64 // as signal/origin
	}
	eng, err := swarm.New(cfg)
	if err != nil {
		s.fail(fmt.Errorf("swarm.New: %w", err))
	}
	p.eng = eng
	s.peers = append(s.peers, p)
	slot := s.rng.IntN(s.nslots)
	s.slots[slot] = append(s.slots[slot], p.idx)
	if !origin {
		p.onlinePos = int32(len(s.online))
		s.online = append(s.online, p.idx)
		p.pl = s.newPlayer(p)
		s.m.joined++
	}
	return p
}

// upload is what p's engine is told of its upload, as a multiple of the
// stream rate: the truth, as a browser that measured its uplink would know.
func (s *Sim) upload(p *peer) float64 {
	if p.origin {
		return s.sc.OriginCopies
	}
	return max(s.sc.UploadMix[p.class].Mult, 0.01)
}

// srvLat is the one-way latency between p and the server.
func (s *Sim) srvLat(p *peer) int64 { return p.half + int64(s.sc.ServerLatency)/2 }

// clock converts virtual time to the engine's time.
func (s *Sim) clock() time.Time { return s.base.Add(time.Duration(s.now)) }

// step feeds p's engine and carries out its actions in order, as
// shared/node's step does.
func (s *Sim) step(p *peer, ev swarm.Event) {
	if err := p.eng.Step(s.clock(), ev); err != nil {
		s.fail(fmt.Errorf("peer %d: Step(%T): %w", p.idx, ev, err))
		return
	}
	for _, a := range p.eng.Ready() {
		switch a := a.(type) {
		case swarm.Send:
			s.send(p, a)
		case swarm.Fetch:
			s.m.fetches++
			s.at(s.now+s.srvLat(p), event{kind: evFetchReq, to: p.idx, aux: int64(a.Seq)})
		case swarm.Deliver:
			s.deliver(p, a)
		case swarm.Disconnect:
			s.m.disconnects++
			if l := p.links[a.Peer]; l != nil {
				s.dropLink(p, l, false)
			}
		}
	}
}

// send puts a message on p's upload queue.
func (s *Sim) send(p *peer, a swarm.Send) {
	l := p.links[a.To]
	if l == nil || l.state != open {
		s.m.sendNoLink++
		return
	}
	c := l.conn
	d := &c.dir[l.side]
	size := int64(wire.EncodedLen(a.Msg)) + msgOverhead
	payload := int64(0)
	if ch, ok := a.Msg.(wire.Chunk); ok {
		if d.buffered(s.now) > s.sc.MaxBuffered {
			s.m.sendDropped++
			return
		}
		payload = int64(len(ch.Payload))
	}
	start := max(s.now, p.upFree)
	dur := int64(float64(size) * p.upNs)
	fin := start + dur
	p.upFree = fin
	p.upBusy += dur
	if payload > 0 {
		// Only chunks count towards the send buffer: control messages
		// are a few dozen bytes against a 4 MiB limit, and skipping them
		// keeps this queue short.
		d.push(fin, size)
	}
	s.m.sent += size
	s.m.sentPayload += payload
	if p.origin {
		s.m.originUp += size
	}
	at := fin + c.lat
	if s.sc.Loss > 0 {
		packets := float64((size + packetBytes - 1) / packetBytes)
		if s.rng.Float64() < 1-math.Pow(1-s.sc.Loss, packets) {
			if s.sc.LossMode == "drop" {
				s.m.lostDropped += size
				return
			}
			s.m.lossDelayed++
			at += 2 * c.lat
		}
	}
	s.at(at, event{kind: evMsg, dir: l.side, to: l.remote, from: p.idx, size: int32(size), conn: c, msg: a.Msg, aux: dur, fin: fin})
}

// onMessage handles a message's arrival: first at the receiver's download
// queue, then (if that queue delays it) once through it.
func (s *Sim) onMessage(e *event) {
	c := e.conn
	recv := c.rec[1-e.dir]
	q := s.peers[e.to]
	from := s.peers[e.from]
	size := int64(e.size)
	if !q.online || !alive(recv, c) || recv.state != open {
		s.m.lostClosed += size
		return
	}
	if from.left >= 0 && from.left < e.fin {
		s.m.lostSender += size
		return
	}
	if e.kind == evMsg {
		d := &c.dir[e.dir]
		done := s.download(q, size, e.aux)
		done = max(done, d.lastArrive)
		d.lastArrive = done
		if done > s.now {
			e.kind = evMsgDone
			s.at(done, *e)
			return
		}
	}
	s.m.received += size
	s.step(q, swarm.MessageReceived{From: from.pid, Msg: e.msg})
}

// download charges size bytes, whose last byte arrives now and whose first
// arrived upDur earlier, to q's download queue and returns when it is
// through.
func (s *Sim) download(q *peer, size, upDur int64) int64 {
	if q.downNs == 0 {
		return s.now
	}
	start := max(q.downFree, s.now-upDur)
	q.downFree = start + int64(float64(size)*q.downNs)
	return max(s.now, q.downFree)
}

func (s *Sim) publish() {
	k := s.published
	s.published++
	var flags uint8
	if k%s.keyEvery() == 0 {
		flags = wire.FlagKeyframe
	}
	c := wire.Chunk{Seq: s.first + k, Timestamp: s.clock().UnixMilli(), Flags: flags, Payload: s.payload}
	s.step(s.peers[0], swarm.Published{Chunk: c})
	if flags&wire.FlagKeyframe != 0 {
		s.keyframe = c.Seq
	}
	// The live edge to the tracker, as signal/origin's OnPublish does.
	s.tr.Live(streamName, c.Seq, s.keyframe)
	s.flushSig()
	s.at(s.now+s.interval, event{kind: evPublish})
}

// chunk rebuilds chunk seq as the origin published it.
func (s *Sim) chunk(seq uint64) wire.Chunk {
	k := seq - s.first
	var flags uint8
	if k%s.keyEvery() == 0 {
		flags = wire.FlagKeyframe
	}
	return wire.Chunk{Seq: seq, Timestamp: s.base.Add(time.Duration(int64(k) * s.interval)).UnixMilli(), Flags: flags, Payload: s.payload}
}

// tick runs one tick slot: the peers in it get a Tick.
func (s *Sim) tick() {
	slot := int(s.now/int64(time.Millisecond)) % s.nslots
	list := s.slots[slot]
	keep := list[:0]
	for _, i := range list {
		p := s.peers[i]
		if !p.online {
			continue
		}
		keep = append(keep, i)
		s.step(p, swarm.Tick{})
	}
	clear(list[len(keep):])
	s.slots[slot] = keep
	s.at(s.now+int64(time.Millisecond), event{kind: evTick})
}

func (s *Sim) onFetchReq(e *event) {
	p := s.peers[e.to]
	seq := uint64(e.aux)
	if seq < s.first || seq >= s.first+s.published || seq+originKeep < s.first+s.published {
		s.m.fetchFailed++
		s.at(s.now+s.srvLat(p), event{kind: evFetchFail, to: p.idx, aux: e.aux})
		return
	}
	size := int64(wire.EncodedLen(s.chunk(seq))) + httpOverhead
	start := max(s.now, s.httpFree)
	dur := int64(float64(size) * s.httpNs)
	s.httpFree = start + dur
	s.m.httpOut(s, start, size)
	s.at(start+dur+s.srvLat(p), event{kind: evFetchResp, to: p.idx, aux: e.aux, size: int32(size), fin: dur})
}

func (s *Sim) onFetchResp(e *event) {
	p := s.peers[e.to]
	if !p.online {
		if e.kind != evFetchFail {
			s.m.httpLost += int64(e.size)
		}
		return
	}
	seq := uint64(e.aux)
	switch e.kind {
	case evFetchFail:
		s.step(p, swarm.FetchFailed{Seq: seq})
		return
	case evFetchResp:
		if done := s.download(p, int64(e.size), e.fin); done > s.now {
			e.kind = evFetchDone
			s.at(done, *e)
			return
		}
	}
	s.m.httpReceived += int64(e.size)
	s.step(p, swarm.Fetched{Chunk: s.chunk(seq)})
}

// deliver handles a chunk the engine hands to the player.
func (s *Sim) deliver(p *peer, a swarm.Deliver) {
	n := int64(len(a.Chunk.Payload))
	switch {
	case !a.FromOrigin:
		s.m.fromPeers += n
	case a.From == "":
		s.m.fromHTTP += n
	default:
		s.m.fromPush += n
	}
	s.m.series(s).add(a, n)
	if p.firstDel < 0 {
		p.firstDel = s.now
	} else if p.pl.Started() {
		p.maxGap = max(p.maxGap, s.now-p.lastDeliver)
	}
	p.lastDeliver = s.now
	if s.opt.OnDeliver != nil {
		s.opt.OnDeliver(int(p.idx), a.Chunk.Seq, time.Duration(s.now), a.FromOrigin)
	}
	s.playerDeliver(p, a.Chunk.Seq)
}

// leave takes p offline now: its channels close (the neighbours notice one
// link latency later) and its signaling connection closes.
func (s *Sim) leave(p *peer) {
	s.finishPeer(p)
	p.online = false
	p.left = s.now
	last := s.online[len(s.online)-1]
	s.online[p.onlinePos] = last
	s.peers[last].onlinePos = p.onlinePos
	s.online = s.online[:len(s.online)-1]
	s.m.left++
	for _, l := range sortedLinks(p) {
		c := l.conn
		l.state = closed
		if c != nil && !c.closed {
			c.closed = true
			if other := c.rec[1-l.side]; alive(other, c) {
				s.at(s.now+c.lat, event{kind: evConnDown, to: c.peer[1-l.side], dir: 1 - l.side, conn: c})
			}
		}
	}
	clear(p.links)
	s.at(s.now+s.srvLat(p), event{kind: evTrackerLeave, to: p.idx})
}

func sortedLinks(p *peer) []*link {
	ls := make([]*link, 0, len(p.links))
	for _, l := range p.links {
		ls = append(ls, l)
	}
	slices.SortFunc(ls, func(a, b *link) int { return int(a.remote) - int(b.remote) })
	return ls
}

// dropLink closes p's end of l and tells the engine; with tell it also
// tells the tracker, as shared/node's dropLink does.
func (s *Sim) dropLink(p *peer, l *link, tell bool) {
	r := s.peers[l.remote]
	delete(p.links, r.pid)
	wasOpen := l.state == open
	l.state = closed
	if c := l.conn; c != nil && !c.closed {
		c.closed = true
		if other := c.rec[1-l.side]; alive(other, c) {
			s.at(s.now+c.lat, event{kind: evConnDown, to: c.peer[1-l.side], dir: 1 - l.side, conn: c})
		}
	}
	if wasOpen {
		s.step(p, swarm.PeerDisconnected{Peer: r.pid})
	}
	if tell && p.tracked {
		s.m.drops++
		s.at(s.now+s.srvLat(p), event{kind: evRelay, from: p.idx,
			sig: &signaling.Message{Type: signaling.TypeDrop, Peer: r.id, Text: "connection failed"}})
	}
}
