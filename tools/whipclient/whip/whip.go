// Package whip publishes an H.264 file and an Ogg Opus file to a WHIP
// endpoint (RFC 9725) over a pion PeerConnection, paced in real time, as a
// stand-in for OBS in tests and load runs.
//
//	err := whip.Publish(ctx, whip.Options{
//		URL:   "http://localhost:8080/api/whip/live",
//		Token: streamKey,
//		Video: "in.h264", // Annex-B, e.g. ffmpeg ... -bsf:v h264_mp4toannexb -f h264
//		Audio: "in.ogg",  // Ogg Opus, one packet per page: -page_duration 20000
//		Duration: 30 * time.Second,
//	})
//
// Publish POSTs the offer once ICE gathering completes (no trickle), waits
// for the connection, sends until the files end (or, with Loop, until ctx
// ends or Duration passes), then DELETEs the session and closes.
package whip

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

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/shoal-live/shoal/shared/loopback"
)

// Defaults for the Options fields left zero.
const (
	DefaultFPS            = 30
	DefaultConnectTimeout = 10 * time.Second
	gatherTimeout         = 5 * time.Second
	deleteTimeout         = 5 * time.Second
)

// Options configures Publish.
type Options struct {
	URL   string // WHIP endpoint, e.g. http://host/api/whip/live. Required.
	Token string // bearer token (the stream key); empty sends none

	Video string  // Annex-B H.264 file, no B-frames; empty for none
	Audio string  // Ogg Opus file, one packet per page; empty for none
	FPS   float64 // video frame rate; zero means DefaultFPS

	// Loop restarts the files at their end (timestamps continue).
	Loop bool
	// Duration stops publishing after this long once connected; zero
	// means until the files end (or ctx ends, with Loop).
	Duration time.Duration

	ICEServers []webrtc.ICEServer
	// LoopbackOnly gathers only loopback host candidates, for tests.
	LoopbackOnly bool
	// ConnectTimeout bounds the wait for ICE and DTLS after the answer;
	// zero means DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// HTTPClient makes the POST and DELETE; nil means
	// http.DefaultClient.
	HTTPClient *http.Client
	// Logger receives progress lines; nil discards.
	Logger *slog.Logger
}

// HTTPError is a WHIP request answered with an unexpected status.
type HTTPError struct {
	Method     string
	URL        string
	StatusCode int
	Message    string // the response body, trimmed
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("whip: %s %s: %d %s: %s", e.Method, e.URL, e.StatusCode,
		http.StatusText(e.StatusCode), e.Message)
}

// Publish publishes the files until they end, ctx ends or Duration passes,
// then DELETEs the session. It returns nil after a clean end, including
// one by ctx.
func Publish(ctx context.Context, o Options) (err error) {
	if o.URL == "" || o.Video == "" && o.Audio == "" {
		return errors.New("whip: URL and a video or audio file are required")
	}
	if o.FPS <= 0 {
		o.FPS = DefaultFPS
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	api, profile, err := newAPI(o)
	if err != nil {
		return err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: o.ICEServers})
	if err != nil {
		return fmt.Errorf("whip: new peer connection: %w", err)
	}
	var rtcpReaders sync.WaitGroup
	defer func() {
		pc.Close()
		rtcpReaders.Wait()
	}()

	var video, audio *webrtc.TrackLocalStaticSample
	addTrack := func(c webrtc.RTPCodecCapability, id string) (*webrtc.TrackLocalStaticSample, error) {
		t, err := webrtc.NewTrackLocalStaticSample(c, id, "whipclient")
		if err != nil {
			return nil, fmt.Errorf("whip: new %s track: %w", id, err)
		}
		tr, err := pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return nil, fmt.Errorf("whip: add %s track: %w", id, err)
		}
		// Read RTCP so that interceptors see NACKs (and retransmit).
		rtcpReaders.Go(func() {
			for {
				if _, _, err := tr.Sender().ReadRTCP(); err != nil {
					return
				}
			}
		})
		return t, nil
	}
	if o.Video != "" {
		if video, err = addTrack(h264Codec(profile), "video"); err != nil {
			return err
		}
	}
	if o.Audio != "" {
		if audio, err = addTrack(opusCodec(), "audio"); err != nil {
			return err
		}
	}

	connected, failed := make(chan struct{}), make(chan struct{})
	var connOnce, failOnce sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			connOnce.Do(func() { close(connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			failOnce.Do(func() { close(failed) })
		}
	})

	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("whip: create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("whip: set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-time.After(gatherTimeout):
		log.Warn("whip: ICE gathering incomplete, offering the candidates found so far")
	case <-ctx.Done():
		return nil
	}

	location, answer, err := post(ctx, o, pc.LocalDescription().SDP)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	log.Info("whip: session created", "location", location)
	defer func() {
		if derr := remove(o, location); derr != nil {
			err = errors.Join(err, derr)
		} else {
			log.Info("whip: session deleted", "location", location)
		}
	}()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return fmt.Errorf("whip: set answer: %w", err)
	}
	select {
	case <-connected:
	case <-failed:
		return errors.New("whip: connection failed")
	case <-time.After(o.ConnectTimeout):
		return fmt.Errorf("whip: not connected after %v", o.ConnectTimeout)
	case <-ctx.Done():
		return nil
	}

	sendCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.Duration > 0 {
		sendCtx, cancel = context.WithTimeout(sendCtx, o.Duration)
		defer cancel()
	}
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var sendErr error
	var frames, packets int
	run := func(f func(context.Context, time.Time) (int, error), n *int) {
		wg.Go(func() {
			count, err := f(sendCtx, start)
			mu.Lock()
			defer mu.Unlock()
			*n = count
			if err != nil && sendErr == nil {
				sendErr = err
				cancel()
			}
		})
	}
	if video != nil {
		run(func(ctx context.Context, start time.Time) (int, error) {
			return sendVideo(ctx, start, o, video)
		}, &frames)
	}
	if audio != nil {
		run(func(ctx context.Context, start time.Time) (int, error) {
			return sendAudio(ctx, start, o, audio)
		}, &packets)
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-failed:
		cancel()
		<-done
		if sendErr == nil {
			sendErr = errors.New("whip: connection failed while sending")
		}
	}
	log.Info("whip: sent", "video_frames", frames, "audio_packets", packets,
		"duration", time.Since(start).Round(time.Millisecond))
	return sendErr
}

// sendVideo sends access units at o.FPS from start.
func sendVideo(ctx context.Context, start time.Time, o Options, t *webrtc.TrackLocalStaticSample) (int, error) {
	frame := time.Duration(float64(time.Second) / o.FPS)
	r, err := openH264(o.Video)
	if err != nil {
		return 0, err
	}
	defer func() { r.Close() }()
	n, pass := 0, 0
	for {
		au, _, err := r.next()
		if errors.Is(err, io.EOF) {
			if !o.Loop || pass == 0 {
				return n, nil
			}
			r.Close()
			if r, err = openH264(o.Video); err != nil {
				return n, err
			}
			pass = 0
			continue
		}
		if err != nil {
			return n, fmt.Errorf("whip: read video: %w", err)
		}
		if !sleepUntil(ctx, start.Add(time.Duration(n)*frame)) {
			return n, nil
		}
		if err := t.WriteSample(media.Sample{Data: au, Duration: frame}); err != nil {
			return n, fmt.Errorf("whip: send video: %w", err)
		}
		n++
		pass++
	}
}

// sendAudio sends Opus packets, each when its time from start comes.
func sendAudio(ctx context.Context, start time.Time, o Options, t *webrtc.TrackLocalStaticSample) (int, error) {
	r, err := openOgg(o.Audio)
	if err != nil {
		return 0, err
	}
	defer func() { r.Close() }()
	n, pass := 0, 0
	var at time.Duration
	for {
		packet, d, err := r.next()
		if errors.Is(err, io.EOF) {
			if !o.Loop || pass == 0 {
				return n, nil
			}
			r.Close()
			if r, err = openOgg(o.Audio); err != nil {
				return n, err
			}
			pass = 0
			continue
		}
		if err != nil {
			return n, err
		}
		if !sleepUntil(ctx, start.Add(at)) {
			return n, nil
		}
		if err := t.WriteSample(media.Sample{Data: packet, Duration: d}); err != nil {
			return n, fmt.Errorf("whip: send audio: %w", err)
		}
		at += d
		n++
		pass++
	}
}

// sleepUntil waits for t; false if ctx ends first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// post sends the offer and returns the session URL and the answer.
func post(ctx context.Context, o Options, offer string) (location, answer string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.URL, strings.NewReader(offer))
	if err != nil {
		return "", "", fmt.Errorf("whip: POST: %w", err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	if o.Token != "" {
		req.Header.Set("Authorization", "Bearer "+o.Token)
	}
	resp, err := o.HTTPClient.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("whip: POST: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", "", fmt.Errorf("whip: POST %s: read answer: %w", o.URL, err)
	}
	if resp.StatusCode != http.StatusCreated {
		return "", "", &HTTPError{Method: http.MethodPost, URL: o.URL, StatusCode: resp.StatusCode,
			Message: strings.TrimSpace(string(body))}
	}
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return "", "", fmt.Errorf("whip: POST %s: bad Location %q", o.URL, resp.Header.Get("Location"))
	}
	return loc.String(), string(body), nil
}

// remove DELETEs the session, even when the caller's context has ended.
func remove(o Options, location string) error {
	ctx, cancel := context.WithTimeout(context.Background(), deleteTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, location, nil)
	if err != nil {
		return fmt.Errorf("whip: DELETE: %w", err)
	}
	if o.Token != "" {
		req.Header.Set("Authorization", "Bearer "+o.Token)
	}
	resp, err := o.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("whip: DELETE: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return &HTTPError{Method: http.MethodDelete, URL: location, StatusCode: resp.StatusCode,
			Message: strings.TrimSpace(string(body))}
	}
	return nil
}

func opusCodec() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
		SDPFmtpLine: "minptime=10;useinbandfec=1",
	}
}

func h264Codec(profile string) webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + profile,
	}
}

// newAPI builds a pion API offering H.264 of the video file's profile and
// Opus, with NACK and RTCP reports.
func newAPI(o Options) (*webrtc.API, string, error) {
	m := &webrtc.MediaEngine{}
	profile := ""
	if o.Video != "" {
		var err error
		if profile, err = profileLevelID(o.Video); err != nil {
			return nil, "", err
		}
		if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: h264Codec(profile), PayloadType: 102},
			webrtc.RTPCodecTypeVideo); err != nil {
			return nil, "", fmt.Errorf("whip: register H.264: %w", err)
		}
	}
	if o.Audio != "" {
		r, err := openOgg(o.Audio) // fail early on a bad file
		if err != nil {
			return nil, "", err
		}
		r.Close()
		if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec(), PayloadType: 111},
			webrtc.RTPCodecTypeAudio); err != nil {
			return nil, "", fmt.Errorf("whip: register Opus: %w", err)
		}
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, "", fmt.Errorf("whip: register interceptors: %w", err)
	}
	var se webrtc.SettingEngine
	if o.LoopbackOnly {
		loopback.Only(&se)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(se)), profile, nil
}
