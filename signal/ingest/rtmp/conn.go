package rtmp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"

	"github.com/shoal-live/shoal/signal/cmaf"
)

// publisher is one publish session on one connection.
type publisher struct {
	s      *Server
	log    *slog.Logger
	sess   Session
	mux    *cmaf.Muxer
	muxCfg cmaf.Config
	err    error // first error from a data callback; ends the session

	fragments, bytes, badTimestamps int
	started                         time.Time
	stream                          string // once the key is accepted
}

// handle serves one connection and logs how it ended.
func (s *Server) handle(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	p := &publisher{s: s, log: s.log.With("remote", conn.RemoteAddr().String())}
	err := p.serve(ctx, conn)
	switch {
	case p.sess == nil && errors.Is(err, ErrUnauthorized):
		p.log.Warn("rtmp: publish refused", "err", err)
	case p.sess == nil:
		p.log.Warn("rtmp: publish failed", "err", err)
		if p.stream != "" && p.s.cfg.OnRefused != nil {
			p.s.cfg.OnRefused(p.stream, err)
		}
	default:
		attrs := []any{"fragments", p.fragments, "bytes", p.bytes,
			"duration", time.Since(p.started).Round(time.Millisecond)}
		if p.badTimestamps > 0 {
			attrs = append(attrs, "bad_timestamps", p.badTimestamps)
		}
		if err != nil {
			p.log.Warn("rtmp: publish ended", append(attrs, "err", err)...)
		} else {
			p.log.Info("rtmp: publish ended", attrs...)
		}
	}
}

// serve runs the connection's steps (see the package documentation). Once
// a Session exists it is ended with the returned error.
func (p *publisher) serve(ctx context.Context, conn net.Conn) (err error) {
	timeout := p.s.cfg.ReadTimeout
	conn.SetDeadline(time.Now().Add(timeout))
	guard := newGuardedConn(conn, uint32(p.s.cfg.MaxChunkSize), maxMessagePreAuth, uint32(p.s.cfg.MaxMessageBytes))
	sc := &gortmplib.ServerConn{RW: guard}
	if err := sc.Initialize(); err != nil {
		return fmt.Errorf("rtmp: handshake: %w", err)
	}
	if err := sc.AcceptConn(); err != nil {
		return fmt.Errorf("rtmp: connect: %w", err)
	}
	if !sc.Publish {
		return reject(sc, ErrPlayNotSupported)
	}
	key, ok := streamKey(sc.URL)
	if !ok {
		return reject(sc, fmt.Errorf("%w: got %q", ErrBadPath, sc.URL.Path))
	}
	stream, ok := p.s.cfg.Authorize(key)
	if !ok {
		return reject(sc, ErrUnauthorized)
	}
	p.log = p.log.With("stream", stream)
	p.stream = stream
	guard.authorized.Store(true)

	conn.SetDeadline(time.Now().Add(timeout))
	r := &gortmplib.Reader{Conn: sc}
	if err := r.Initialize(); err != nil {
		return fmt.Errorf("rtmp: read tracks: %w", err)
	}
	video, audio, cfg, err := muxerConfig(r.Tracks())
	if err != nil {
		return err
	}
	cfg.FragmentDuration = p.s.cfg.FragmentDuration
	cfg.MaxFragmentBytes = p.s.cfg.MaxFragmentBytes
	cfg.OnFragment = p.onFragment
	p.muxCfg = cfg
	if p.mux, err = cmaf.NewMuxer(cfg); err != nil {
		return fmt.Errorf("rtmp: set up muxer: %w", err)
	}
	info := Info{Remote: conn.RemoteAddr().String(), MIME: p.mux.MIME(), Tracks: p.mux.Tracks()}
	sess, err := p.s.cfg.Sink.Start(stream, info)
	if err != nil {
		return fmt.Errorf("rtmp: start stream %q: %w", stream, err)
	}
	p.sess, p.started = sess, time.Now()
	stopWatch := watchEnd(conn, sess)
	defer func() {
		if stopWatch() {
			err = ErrEnded
		}
		if ctx.Err() != nil {
			err = ErrServerClosed
		}
		if ferr := p.mux.Flush(); err == nil && ferr != nil {
			err = fmt.Errorf("rtmp: flush: %w", ferr)
		}
		sess.End(err)
	}()
	p.log.Info("rtmp: publish started", "mime", info.MIME)
	sess.Init(p.mux.MIME(), p.mux.Init())

	if video != nil {
		r.OnDataH264(video, func(pts, dts time.Duration, au [][]byte) {
			if p.err == nil {
				p.err = p.writeVideo(pts, dts, au)
			}
		})
	}
	if audio != nil {
		r.OnDataMPEG4Audio(audio, func(pts time.Duration, frame []byte) {
			if p.err == nil {
				p.err = p.ignoreBadTimestamp(p.mux.WriteAudio(pts, frame))
			}
		})
	}
	for {
		conn.SetDeadline(time.Now().Add(timeout))
		if err := r.Read(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil // the publisher closed the stream
			}
			return fmt.Errorf("rtmp: read: %w", err)
		}
		if p.err != nil {
			return p.err
		}
	}
}

func (p *publisher) onFragment(f cmaf.Fragment) {
	p.fragments++
	p.bytes += len(f.Data)
	p.sess.Fragment(f)
}

// writeVideo writes an access unit, starting a new muxer (and init segment)
// when the parameter sets change.
func (p *publisher) writeVideo(pts, dts time.Duration, au [][]byte) error {
	err := p.mux.WriteVideo(pts, dts, au)
	if !errors.Is(err, cmaf.ErrParamsChanged) {
		return p.ignoreBadTimestamp(err)
	}
	if err := p.mux.Flush(); err != nil {
		return fmt.Errorf("rtmp: flush before new parameters: %w", err)
	}
	h := *p.muxCfg.Video
	var sps, pps [][]byte
	for _, nalu := range au {
		switch {
		case len(nalu) == 0:
		case nalu[0]&0x1f == 7:
			sps = append(sps, nalu)
		case nalu[0]&0x1f == 8:
			pps = append(pps, nalu)
		}
	}
	if sps != nil {
		h.SPS = sps
	}
	if pps != nil {
		h.PPS = pps
	}
	cfg := p.muxCfg
	cfg.Video = &h
	mux, err := cmaf.NewMuxer(cfg)
	if err != nil {
		return fmt.Errorf("rtmp: new H.264 parameters: %w", err)
	}
	p.mux, p.muxCfg = mux, cfg
	p.log.Info("rtmp: H.264 parameters changed, new init segment", "mime", mux.MIME())
	p.sess.Init(mux.MIME(), mux.Init())
	return p.ignoreBadTimestamp(mux.WriteVideo(pts, dts, au))
}

// ignoreBadTimestamp counts and drops samples the muxer refused for their
// timestamps, logging the first: one bad timestamp should not end a live
// stream.
func (p *publisher) ignoreBadTimestamp(err error) error {
	if !errors.Is(err, cmaf.ErrTimestamp) {
		return err
	}
	if p.badTimestamps++; p.badTimestamps == 1 {
		p.log.Warn("rtmp: dropping samples with bad timestamps", "err", err)
	}
	return nil
}

// reject refuses the publish or play command, then returns err.
func reject(sc *gortmplib.ServerConn, err error) error {
	if rerr := sc.RejectAction(); rerr != nil {
		return fmt.Errorf("%w (and telling the client failed: %v)", err, rerr)
	}
	return err
}

// streamKey extracts <key> from a /live/<key> publish URL.
func streamKey(u *url.URL) (string, bool) {
	if u == nil {
		return "", false
	}
	key, ok := strings.CutPrefix(u.Path, "/live/")
	if !ok || key == "" || strings.Contains(key, "/") {
		return "", false
	}
	return key, true
}

// muxerConfig picks one H.264 and one AAC track, refusing anything else.
func muxerConfig(tracks []*gortmplib.Track) (video, audio *gortmplib.Track, cfg cmaf.Config, err error) {
	for _, t := range tracks {
		switch c := t.Codec.(type) {
		case *codecs.H264:
			if video != nil {
				return nil, nil, cfg, fmt.Errorf("%w: more than one video track", ErrUnsupportedCodec)
			}
			video = t
			cfg.Video = &cmaf.H264{SPS: [][]byte{c.SPS}, PPS: [][]byte{c.PPS}}
		case *codecs.MPEG4Audio:
			if audio != nil {
				return nil, nil, cfg, fmt.Errorf("%w: more than one audio track", ErrUnsupportedCodec)
			}
			asc, err := c.Config.Marshal()
			if err != nil {
				return nil, nil, cfg, fmt.Errorf("rtmp: AAC config: %w", err)
			}
			audio = t
			cfg.Audio = &cmaf.AAC{Config: asc}
		default:
			return nil, nil, cfg, fmt.Errorf("%w: %s (Shoal takes H.264 video and AAC audio)",
				ErrUnsupportedCodec, codecName(t.Codec))
		}
	}
	if video == nil && audio == nil {
		return nil, nil, cfg, fmt.Errorf("%w: no tracks", ErrUnsupportedCodec)
	}
	return video, audio, cfg, nil
}

func codecName(c codecs.Codec) string {
	switch c.(type) {
	case *codecs.H265:
		return "H.265 video"
	case *codecs.AV1:
		return "AV1 video"
	case *codecs.VP9:
		return "VP9 video"
	case *codecs.Opus:
		return "Opus audio"
	case *codecs.FLAC:
		return "FLAC audio"
	case *codecs.MPEG1Audio:
		return "MPEG-1/2 audio (MP3)"
	case *codecs.AC3:
		return "AC-3 audio"
	case *codecs.G711:
		return "G.711 audio"
	case *codecs.LPCM:
		return "PCM audio"
	default:
		return fmt.Sprintf("%T", c)
	}
}
