// Package malpeer is a hostile swarm peer for tests: it joins a stream's
// swarm through signaling like any viewer, connects to the neighbours the
// tracker gives it over real WebRTC (pion), and then sends each of them one
// attack: corrupted, truncated, replayed, re-numbered, out-of-window,
// unsigned and oversized chunks, and floods of requests. Honest peers must
// drop all of it, cut the attacker off and report it, and the tracker must
// stop introducing it.
package malpeer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/shoal-live/shoal/shared/loopback"
	"github.com/shoal-live/shoal/shared/node"
	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/wire"
)

// Attack names one misbehaviour.
type Attack string

// The attacks, sent in this order to successive neighbours.
const (
	Corrupt   Attack = "corrupt"   // a real signed chunk with one payload byte flipped
	Truncate  Attack = "truncate"  // a chunk frame cut short (undecodable)
	Renumber  Attack = "renumber"  // a real signed chunk replayed under the next sequence number
	Window    Attack = "window"    // a chunk far beyond the window, with a made-up signature
	Unsigned  Attack = "unsigned"  // a real chunk stripped of its signature
	Oversized Attack = "oversized" // a frame larger than any valid message
	Flood     Attack = "flood"     // thousands of requests at once
	Replay    Attack = "replay"    // a real, valid, older chunk sent again, then a corrupted one
)

// Attacks lists every attack in the order they are used.
var Attacks = []Attack{Corrupt, Truncate, Renumber, Window, Unsigned, Oversized, Flood, Replay}

// Config sets up an attacker.
type Config struct {
	// Base is the server's URL, e.g. "http://127.0.0.1:8080".
	Base   string
	Stream string
	// Attacks to cycle through (default all).
	Attacks []Attack
	// LoopbackOnly keeps ICE on loopback (tests in a network namespace).
	LoopbackOnly bool
	// StrikeAfter holds every attack until this long after joining, so
	// that slow neighbours (browsers) have their channels open before the
	// first reports get us quarantined (default 0: attack at once).
	StrikeAfter time.Duration
	// Linger is how long to stay after the tracker quarantines us, to
	// see whether it still introduces anyone (default 3 s); then Run
	// returns.
	Linger time.Duration
	Logger *slog.Logger
}

// Stats is what the attacker did and saw.
type Stats struct {
	ID          string
	Neighbours  int            // neighbours introduced
	Opened      int            // data channels opened
	Sent        map[Attack]int // attacks sent
	CutOff      int            // neighbours that closed on us or were taken away
	Quarantined bool           // the tracker told us we are quarantined
	// IntroducedAfterQuarantine counts neighbours introduced after that:
	// must stay 0.
	IntroducedAfterQuarantine int
}

type peer struct {
	origin bool // the stream's origin: left alone, its word gets us quarantined at once
	id     string
	pc     *webrtc.PeerConnection
	dc     *webrtc.DataChannel
}

type attacker struct {
	cancel context.CancelFunc
	cfg    Config
	log    *slog.Logger
	api    *webrtc.API
	sig    signaling.Conn
	http   *http.Client

	mu     sync.Mutex
	peers  map[string]*peer
	stats  Stats
	next   int // index of the next attack
	newest uint64
	seenAt time.Time

	strikeAt time.Time
}

// Run attacks until ctx ends and returns what happened. It returns an
// error only if it could not join.
func Run(ctx context.Context, cfg Config) (Stats, error) {
	if len(cfg.Attacks) == 0 {
		cfg.Attacks = Attacks
	}
	if cfg.Linger <= 0 {
		cfg.Linger = 3 * time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a := &attacker{cancel: cancel, cfg: cfg, log: cfg.Logger.With("role", "malpeer"), api: newAPI(cfg.LoopbackOnly),
		http: &http.Client{Timeout: 5 * time.Second}, peers: map[string]*peer{}, stats: Stats{Sent: map[Attack]int{}}}
	conn, err := signaling.DialWebSocket(ctx, "ws"+strings.TrimPrefix(cfg.Base, "http")+"/api/signal")
	if err != nil {
		return a.stats, fmt.Errorf("malpeer: dial: %w", err)
	}
	a.sig = conn
	defer conn.Close("bye")
	if err := conn.Send(ctx, signaling.Message{Type: signaling.TypeJoin, Stream: cfg.Stream}); err != nil {
		return a.stats, fmt.Errorf("malpeer: join: %w", err)
	}
	w, err := conn.Recv(ctx)
	if err != nil || w.Type != signaling.TypeWelcome {
		return a.stats, fmt.Errorf("malpeer: join: %+v, %v", w, err)
	}
	a.stats.ID = w.ID
	a.strikeAt = time.Now().Add(cfg.StrikeAfter)
	a.log = a.log.With("peer", w.ID)
	a.log.Info("malicious peer joined")
	a.mu.Lock()
	a.newest, a.seenAt = w.Newest, time.Now() // the tracker says where the live edge is
	a.mu.Unlock()
	for {
		m, err := conn.Recv(ctx)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, signaling.ErrInvalid) {
				a.log.Info("signaling closed", "err", err)
			}
			break
		}
		a.onSignal(ctx, m)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.peers {
		go p.pc.Close()
	}
	return a.stats, nil
}

func (a *attacker) onSignal(ctx context.Context, m signaling.Message) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch m.Type {
	case signaling.TypeNeighbour:
		a.stats.Neighbours++
		if a.stats.Quarantined {
			a.stats.IntroducedAfterQuarantine++
		}
		p, err := a.newPeer(ctx, m.Peer)
		if err != nil {
			return
		}
		p.origin = m.Origin
		if m.Initiator {
			ordered := true
			dc, err := p.pc.CreateDataChannel("shoal/1", &webrtc.DataChannelInit{Ordered: &ordered})
			if err != nil {
				return
			}
			a.watch(ctx, p, dc)
			o, err := p.pc.CreateOffer(nil)
			if err == nil && p.pc.SetLocalDescription(o) == nil {
				a.send(ctx, signaling.Message{Type: signaling.TypeOffer, Peer: p.id, SDP: o.SDP})
			}
		}
	case signaling.TypeOffer:
		p := a.peers[m.Peer]
		if p == nil {
			var err error
			if p, err = a.newPeer(ctx, m.Peer); err != nil {
				return
			}
		}
		if p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP}) != nil {
			return
		}
		ans, err := p.pc.CreateAnswer(nil)
		if err == nil && p.pc.SetLocalDescription(ans) == nil {
			a.send(ctx, signaling.Message{Type: signaling.TypeAnswer, Peer: p.id, SDP: ans.SDP})
		}
	case signaling.TypeAnswer:
		if p := a.peers[m.Peer]; p != nil {
			p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP})
		}
	case signaling.TypeCandidate:
		if p := a.peers[m.Peer]; p != nil && m.Candidate != nil {
			p.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: m.Candidate.Candidate, SDPMid: m.Candidate.SDPMid, SDPMLineIndex: m.Candidate.SDPMLineIndex})
		}
	case signaling.TypePeerLeft:
		if p := a.peers[m.Peer]; p != nil {
			delete(a.peers, m.Peer)
			a.stats.CutOff++
			go p.pc.Close()
		}
	case signaling.TypeError:
		a.log.Info("tracker error", "code", m.Code, "text", m.Text)
		if m.Code == signaling.CodeQuarantined && !a.stats.Quarantined {
			a.stats.Quarantined = true
			time.AfterFunc(a.cfg.Linger, a.cancel)
		}
	}
}

func (a *attacker) send(ctx context.Context, m signaling.Message) {
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	a.sig.Send(sctx, m)
}

func (a *attacker) newPeer(ctx context.Context, id string) (*peer, error) {
	pc, err := a.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	p := &peer{id: id, pc: pc}
	a.peers[id] = p
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		j := c.ToJSON()
		go a.send(ctx, signaling.Message{Type: signaling.TypeCandidate, Peer: id,
			Candidate: &signaling.Candidate{Candidate: j.Candidate, SDPMid: j.SDPMid, SDPMLineIndex: j.SDPMLineIndex}})
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) { a.watch(ctx, p, dc) })
	return p, nil
}

func (a *attacker) watch(ctx context.Context, p *peer, dc *webrtc.DataChannel) {
	p.dc = dc
	dc.OnOpen(func() {
		a.mu.Lock()
		a.stats.Opened++
		if p.origin {
			a.mu.Unlock()
			return
		}
		attack := a.cfg.Attacks[a.next%len(a.cfg.Attacks)]
		a.next++
		a.mu.Unlock()
		go a.attack(ctx, p, attack)
	})
	dc.OnMessage(func(msg webrtc.DataChannelMessage) {
		m, err := wire.Decode(msg.Data)
		if err != nil {
			return
		}
		var seq uint64
		switch m := m.(type) {
		case wire.Have:
			seq = m.Seq
		case wire.Chunk:
			seq = m.Seq
		case wire.Request:
			seq = m.Seq
		case wire.BufferMap:
			if len(m.Bits) > 0 {
				seq = m.Base + uint64(len(m.Bits)) - 1
			}
		}
		a.mu.Lock()
		if seq > a.newest && seq < a.newest+10000 || a.newest == 0 {
			a.newest, a.seenAt = seq, time.Now()
		}
		a.mu.Unlock()
	})
	dc.OnClose(func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.peers[p.id] == p {
			delete(a.peers, p.id)
			a.stats.CutOff++
		}
	})
}

// guess returns our estimate of the newest chunk: the newest seen plus 4
// per second since.
func (a *attacker) guess() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.newest + uint64(time.Since(a.seenAt)/(250*time.Millisecond))
}

func (a *attacker) fetch(ctx context.Context, seq uint64) (wire.Chunk, error) {
	return node.HTTPFetcher(a.cfg.Base, a.http)(ctx, a.cfg.Stream, seq)
}

// attack sends one attack to p.
func (a *attacker) attack(ctx context.Context, p *peer, at Attack) {
	select {
	case <-time.After(time.Until(a.strikeAt)):
	case <-ctx.Done():
		return
	}
	seq := a.guess()
	real, err := a.fetch(ctx, seq-min(seq, 2))
	if err != nil {
		a.log.Info("no real chunk to abuse", "err", err)
		real = wire.Chunk{Seq: seq, Timestamp: time.Now().UnixMilli(), Payload: []byte("not media"), Signature: make([]byte, 64)}
	}
	// Claim to hold a window of chunks so that the neighbour asks us.
	bits := make([]bool, 64)
	for i := range bits {
		bits[i] = true
	}
	base := real.Seq - min(real.Seq, 32)
	sendRaw(p.dc, wire.Encode(wire.BufferMap{Base: base, Bits: bits}))
	var frames [][]byte
	switch at {
	case Corrupt:
		frames = append(frames, wire.Encode(corrupt(real)))
	case Truncate:
		f := wire.Encode(real)
		frames = append(frames, f[:len(f)/2])
	case Renumber:
		c := real
		c.Seq++
		frames = append(frames, wire.Encode(c))
	case Window:
		frames = append(frames, wire.Encode(wire.Chunk{Seq: real.Seq + 1_000_000, Timestamp: real.Timestamp,
			Payload: make([]byte, 1000), Signature: make([]byte, wire.SignatureSize)}))
	case Unsigned:
		c := real
		c.Signature = nil
		frames = append(frames, wire.Encode(c))
	case Oversized:
		f := make([]byte, wire.MaxMessageSize+1000)
		copy(f, wire.Encode(wire.Chunk{Seq: real.Seq}))
		frames = append(frames, f)
	case Flood:
		for i := range 3000 {
			frames = append(frames, wire.Encode(wire.Request{Seq: base + uint64(i%64)}))
		}
	case Replay:
		old, err := a.fetch(ctx, real.Seq-min(real.Seq, 8))
		if err == nil {
			frames = append(frames, wire.Encode(old), wire.Encode(old))
		}
		frames = append(frames, wire.Encode(corrupt(real)))
	}
	sent := 0
	for _, f := range frames {
		if err := sendRaw(p.dc, f); err != nil {
			a.log.Info("send failed", "neighbour", p.id, "attack", at, "after", sent, "err", err)
			break
		}
		sent++
	}
	a.mu.Lock()
	a.stats.Sent[at]++
	a.mu.Unlock()
	a.log.Info("attack sent", "neighbour", p.id, "attack", at, "seq", real.Seq, "frames", sent)
	// Then answer every request with a corrupted chunk until cut off.
	p.dc.OnMessage(func(msg webrtc.DataChannelMessage) {
		if m, err := wire.Decode(msg.Data); err == nil {
			if r, ok := m.(wire.Request); ok {
				c := real
				c.Seq = r.Seq
				sendRaw(p.dc, wire.Encode(corrupt(c)))
			}
		}
	})
}

func corrupt(c wire.Chunk) wire.Chunk {
	c.Payload = append([]byte(nil), c.Payload...)
	if len(c.Payload) == 0 {
		c.Payload = []byte{0}
	}
	c.Payload[len(c.Payload)/2] ^= 0xff
	return c
}

func sendRaw(dc *webrtc.DataChannel, b []byte) error {
	if dc == nil {
		return errors.New("no data channel")
	}
	return dc.Send(b)
}

// newAPI is node's pion set-up: loopback-only candidates for tests.
func newAPI(loopbackOnly bool) *webrtc.API {
	var se webrtc.SettingEngine
	if loopbackOnly {
		loopback.Only(&se)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se))
}
