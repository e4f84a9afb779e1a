package whip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
)

// Reordering and loss bounds of the sample builders: how many packets and
// how much media time a missing packet is waited for (NACK has that long to
// recover it) before the frame it belongs to is dropped.
const (
	videoMaxLate  = 512
	videoMaxDelay = 500 * time.Millisecond
	audioMaxLate  = 25
	audioMaxDelay = 200 * time.Millisecond
)

// unitQueue bounds the samples waiting between the track readers and the
// session goroutine; a full queue holds the readers back.
const unitQueue = 256

// unit is one depacketized sample, or the news that the video track started.
type unit struct {
	video   bool
	started bool          // the video track's first packet arrived: request a keyframe
	pts     time.Duration // on the session timeline
	nalus   [][]byte      // video
	packet  []byte        // audio: one Opus packet
	lost    bool          // packets were lost before this sample
}

// session is one publisher: a PeerConnection, a reader goroutine per track
// (pion's OnTrack goroutine) and the run goroutine, which owns the remuxer.
type session struct {
	h       *Handler
	id      string
	stream  string
	log     *slog.Logger
	pc      *webrtc.PeerConnection
	sess    Session
	created time.Time // session time 0: anchors the tracks' RTP clocks

	units     chan unit
	remux     remuxer
	videoSSRC atomic.Uint32 // 0 until the video track starts
	lastPLI   time.Time
	lastIDR   time.Time     // when the newest IDR arrived (keyframes.go)
	firstFrag time.Duration // from the POST to the first fragment

	stopOnce sync.Once
	stopErr  error
	stopped  chan struct{} // closed by stop
	finished chan struct{} // closed once Session.End returned

	readersMu sync.Mutex
	closing   bool // no more readers
	readers   sync.WaitGroup
}

// newSession negotiates the PeerConnection and returns the session, not yet
// running, and the SDP answer with the gathered candidates.
func (h *Handler) newSession(ctx context.Context, stream string, o offer, offerSDP []byte,
	sess Session, log *slog.Logger) (*session, string, error) {
	api, err := newAPI(o, h.cfg.SettingEngine, h.cfg.LoopbackOnly)
	if err != nil {
		return nil, "", err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: h.cfg.ICEServers})
	if err != nil {
		return nil, "", fmt.Errorf("whip: new peer connection: %w", err)
	}
	s := &session{
		h:        h,
		id:       newID(),
		stream:   stream,
		pc:       pc,
		sess:     sess,
		created:  time.Now(),
		units:    make(chan unit, unitQueue),
		stopped:  make(chan struct{}),
		finished: make(chan struct{}),
		remux: remuxer{
			sess:     sess,
			fragDur:  h.cfg.FragmentDuration,
			maxBytes: h.cfg.MaxFragmentBytes,
		},
	}
	s.log = log.With("session", s.id)
	pc.OnTrack(s.onTrack)
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateFailed:
			s.stop(fmt.Errorf("%w: ICE or DTLS failed", ErrConnectionFailed))
		case webrtc.PeerConnectionStateClosed:
			s.stop(fmt.Errorf("%w: closed", ErrConnectionFailed))
		}
	})
	fail := func(err error) (*session, string, error) {
		pc.Close()
		return nil, "", err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offerSDP)}); err != nil {
		return fail(fmt.Errorf("%w: set remote description: %v", ErrBadOffer, err))
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return fail(fmt.Errorf("%w: create answer: %v", ErrBadOffer, err))
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return fail(fmt.Errorf("whip: set local description: %w", err))
	}
	timer := time.NewTimer(h.cfg.GatherTimeout)
	defer timer.Stop()
	select {
	case <-gathered:
	case <-timer.C:
		s.log.Warn("whip: ICE gathering incomplete, answering with the candidates found so far",
			"after", h.cfg.GatherTimeout)
	case <-ctx.Done():
		return fail(fmt.Errorf("whip: publisher left during ICE gathering: %w", ctx.Err()))
	case <-h.ctx.Done():
		return fail(ErrServerClosed)
	}
	local := pc.LocalDescription()
	if local == nil {
		return fail(errors.New("whip: no local description"))
	}
	s.remux.audio = receivesOpus(local.SDP)
	return s, local.SDP, nil
}

// receivesOpus reports whether an answer accepts Opus audio.
func receivesOpus(answer string) bool {
	var sd sdp.SessionDescription
	if sd.UnmarshalString(answer) != nil {
		return false
	}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		if _, inactive := md.Attribute("inactive"); inactive {
			continue
		}
		for _, c := range mediaCodecs(md) {
			if strings.EqualFold(c.name, "opus") {
				return true
			}
		}
	}
	return false
}

// stop asks the session to end with err; the first call wins.
func (s *session) stop(err error) {
	s.stopOnce.Do(func() {
		s.stopErr = err
		close(s.stopped)
	})
}

// abort ends a session that never ran.
func (s *session) abort(err error) {
	s.stop(err)
	s.pc.Close()
	s.sess.End(err)
	close(s.finished)
}

// run feeds the remuxer until the session stops, asks for keyframes, then
// closes the PeerConnection, waits for the readers, flushes and ends the
// Session.
func (s *session) run() {
	cfg := &s.h.cfg
	s.log.Info("whip: publish started", "audio", s.remux.audio)
	idle := time.NewTimer(cfg.MediaTimeout)
	defer idle.Stop()
	pli := time.NewTicker(cfg.PLIInterval)
	defer pli.Stop()
	var err error
loop:
	for {
		select {
		case u := <-s.units:
			idle.Reset(cfg.MediaTimeout)
			switch {
			case u.started:
				s.requestKeyframe(true)
			case u.video:
				s.noteKeyframe(u.nalus)
				var needKey bool
				needKey, err = s.remux.video(u.pts, u.nalus)
				if u.lost && !needKey {
					s.requestKeyframe(false) // decoders show errors until the next IDR
				}
			default:
				err = s.remux.audioPacket(u.pts, u.packet)
			}
			if s.firstFrag == 0 && s.remux.fragments > 0 {
				s.firstFrag = time.Since(s.created)
			}
			if err != nil {
				break loop
			}
		case <-pli.C:
			if !s.remux.started() || s.keyframeOverdue() {
				s.requestKeyframe(true)
			}
		case <-idle.C:
			err = fmt.Errorf("%w for %v", ErrMediaTimeout, cfg.MediaTimeout)
			break loop
		case <-s.stopped:
			break loop
		}
	}
	s.stop(err)
	err = s.stopErr

	s.readersMu.Lock()
	s.closing = true
	s.readersMu.Unlock()
	if cerr := s.pc.Close(); cerr != nil {
		s.log.Debug("whip: close peer connection", "err", cerr)
	}
	s.readers.Wait()
	if ferr := s.remux.flush(); err == nil {
		err = ferr
	}
	s.sess.End(err)
	close(s.finished)

	r := &s.remux
	attrs := []any{"duration", time.Since(s.created).Round(time.Millisecond),
		"inits", r.inits, "fragments", r.fragments, "bytes", r.bytes}
	if s.firstFrag > 0 {
		attrs = append(attrs, "first_fragment_after", s.firstFrag.Round(time.Millisecond))
	}
	for _, c := range []struct {
		name string
		n    int
	}{{"dropped_before_idr", r.waiting}, {"bad_timestamps", r.badTimestamps}, {"bad_opus_packets", r.badFrames}} {
		if c.n > 0 {
			attrs = append(attrs, c.name, c.n)
		}
	}
	if err != nil {
		s.log.Warn("whip: publish ended", append(attrs, "err", err)...)
	} else {
		s.log.Info("whip: publish ended", attrs...)
	}
}

// requestKeyframe sends a PLI for the video track, at most once per
// PLIInterval unless force is set.
func (s *session) requestKeyframe(force bool) {
	ssrc := s.videoSSRC.Load()
	if ssrc == 0 || !force && time.Since(s.lastPLI) < s.h.cfg.PLIInterval {
		return
	}
	s.lastPLI = time.Now()
	if err := s.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
		s.log.Debug("whip: send PLI", "err", err)
	}
}

// onTrack reads one remote track until the PeerConnection closes. It runs
// on the goroutine pion starts for it.
func (s *session) onTrack(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	s.readersMu.Lock()
	if s.closing {
		s.readersMu.Unlock()
		return
	}
	s.readers.Add(1)
	s.readersMu.Unlock()
	defer s.readers.Done()

	switch {
	case track.Kind() == webrtc.RTPCodecTypeVideo && strings.EqualFold(track.Codec().MimeType, webrtc.MimeTypeH264):
		s.videoSSRC.Store(uint32(track.SSRC()))
		if !s.send(unit{started: true}) {
			return
		}
		s.read(track, true, samplebuilder.New(videoMaxLate, &codecs.H264Packet{IsAVC: true}, 90000,
			samplebuilder.WithMaxTimeDelay(videoMaxDelay)))
	case track.Kind() == webrtc.RTPCodecTypeAudio && strings.EqualFold(track.Codec().MimeType, webrtc.MimeTypeOpus):
		s.read(track, false, samplebuilder.New(audioMaxLate, &codecs.OpusPacket{}, 48000,
			samplebuilder.WithMaxTimeDelay(audioMaxDelay)))
	default:
		s.log.Warn("whip: ignoring track", "kind", track.Kind().String(), "codec", track.Codec().MimeType)
	}
}

// read depacketizes a track and queues its samples with their times.
func (s *session) read(track *webrtc.TrackRemote, video bool, sb *samplebuilder.SampleBuilder) {
	var clock *rtpClock
	padding := 0 // padding-only packets since the last sample, which sb counts as dropped
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return // the PeerConnection closed, or the publisher ended the track
		}
		if clock == nil {
			clock = newRTPClock(int64(track.Codec().ClockRate), time.Since(s.created), pkt.Timestamp)
		}
		if isPadding(pkt) {
			padding++
		}
		sb.Push(pkt)
		for smp := sb.Pop(); smp != nil; smp = sb.Pop() {
			u := unit{video: video, pts: clock.pts(smp.PacketTimestamp), lost: int(smp.PrevDroppedPackets) > padding}
			padding = 0
			if video {
				if u.nalus, err = splitAVCC(smp.Data); err != nil {
					s.log.Debug("whip: drop access unit", "err", err)
					continue
				}
			} else {
				u.packet = smp.Data
			}
			if !s.send(u) {
				return
			}
		}
	}
}

func isPadding(p *rtp.Packet) bool { return p.Padding && len(p.Payload) == 0 }

// send queues u for the run goroutine; false once the session stops.
func (s *session) send(u unit) bool {
	select {
	case s.units <- u:
		return true
	case <-s.stopped:
		return false
	}
}
