package whip

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/shoal-live/shoal/signal/cmaf"
)

// Defaults for the Config fields left zero.
const (
	DefaultBasePath      = "/api/whip"
	DefaultMaxOfferBytes = 64 << 10
	// DefaultGatherTimeout bounds the wait for ICE gathering before the
	// answer is sent with the candidates found so far.
	DefaultGatherTimeout = 5 * time.Second
	// DefaultMediaTimeout ends a session that received no media for this
	// long, including one whose connection never came up.
	DefaultMediaTimeout = 10 * time.Second
	// DefaultPLIInterval is how often a keyframe is requested while the
	// session waits for its first IDR, and afterwards whenever the
	// publisher has sent none for that long (a browser's encoder sends
	// keyframes only when asked; viewers join at keyframes).
	DefaultPLIInterval = 2 * time.Second
)

// Authorizer reports whether key (the bearer token) may publish stream. It
// should compare in constant time.
type Authorizer func(stream, key string) bool

// Sink starts the consumer of a publish session.
type Sink interface {
	// Begin is called once the publisher is authorized and its offer
	// accepted, before the answer is sent. An error refuses the
	// publisher with its message: 409 Conflict if it wraps ErrBusy,
	// 503 Service Unavailable otherwise.
	Begin(stream string) (Session, error)
}

// Session consumes one publish session. Its methods are called in order
// from one goroutine and must not block: a slow Session stalls the
// session's media.
type Session interface {
	// Init delivers the MIME type for a SourceBuffer, the init segment
	// and the picture size. It comes before the first Fragment, and
	// again when the publisher's H.264 parameter sets change; the
	// fragments after it (Seq restarting at 1, starting at a keyframe)
	// need the new init segment.
	Init(mime string, init []byte, width, height int)
	// Fragment delivers the next fragment. f.Data is the Session's.
	Fragment(f cmaf.Fragment)
	// End is called once, also when Init never was: err is nil after
	// DELETE, ErrServerClosed on Close, otherwise what ended the session
	// (ErrConnectionFailed, ErrMediaTimeout, a muxer error).
	End(err error)
}

// Config configures a Handler.
type Config struct {
	// Authorize checks the bearer token of each POST. Required.
	Authorize Authorizer
	// Sink receives the sessions. Required.
	Sink Sink
	// ICEServers are given to each PeerConnection (STUN, so that a
	// server behind NAT offers a reflexive candidate).
	ICEServers []webrtc.ICEServer
	// SettingEngine, if set, is copied for each PeerConnection: public
	// IPs behind NAT (SetNAT1To1IPs), a UDP port range
	// (SetEphemeralUDPPortRange) or a single port (SetICEUDPMux).
	SettingEngine *webrtc.SettingEngine
	// LoopbackOnly gathers only loopback host candidates: for tests,
	// which run where only lo exists. It applies over SettingEngine.
	LoopbackOnly bool
	// FragmentDuration and MaxFragmentBytes configure each session's
	// cmaf.Muxer; zero takes cmaf's defaults.
	FragmentDuration time.Duration
	MaxFragmentBytes int
	// Logger receives one line per session start and end, and per
	// refused publisher; nil discards.
	Logger *slog.Logger

	// BasePath is the path the endpoints live under: POST
	// BasePath/{stream}, DELETE BasePath/{stream}/{session}. Empty means
	// DefaultBasePath.
	BasePath string
	// AllowedOrigins lists the origins (scheme://host[:port]) whose
	// pages may publish cross-origin, answered to CORS preflights; "*"
	// allows any. Empty allows none: same-origin pages and non-browser
	// publishers (OBS, ffmpeg, whipclient) need no CORS.
	AllowedOrigins []string
	// MaxOfferBytes limits the SDP offer; zero means
	// DefaultMaxOfferBytes. A larger one gets 413.
	MaxOfferBytes int64
	// GatherTimeout, MediaTimeout and PLIInterval: zero means the
	// Default of the same name.
	GatherTimeout time.Duration
	MediaTimeout  time.Duration
	PLIInterval   time.Duration
}

// Handler serves the WHIP endpoints. Create it with New.
type Handler struct {
	cfg    Config
	log    *slog.Logger
	ctx    context.Context // ends at Close: cuts short answers in progress
	cancel context.CancelFunc

	mu       sync.Mutex
	closed   bool
	sessions map[string]*session // by id
	wg       sync.WaitGroup      // POSTs in progress and session goroutines
}

// New checks cfg and returns a Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Authorize == nil || cfg.Sink == nil {
		return nil, fmt.Errorf("%w: Authorize and Sink are required", ErrInvalidConfig)
	}
	if cfg.FragmentDuration < 0 || cfg.MaxFragmentBytes < 0 || cfg.MaxOfferBytes < 0 ||
		cfg.GatherTimeout < 0 || cfg.MediaTimeout < 0 || cfg.PLIInterval < 0 {
		return nil, fmt.Errorf("%w: negative duration or size", ErrInvalidConfig)
	}
	cfg.BasePath = strings.TrimSuffix(cfg.BasePath, "/")
	if cfg.BasePath == "" {
		cfg.BasePath = DefaultBasePath
	}
	if cfg.MaxOfferBytes == 0 {
		cfg.MaxOfferBytes = DefaultMaxOfferBytes
	}
	if cfg.GatherTimeout == 0 {
		cfg.GatherTimeout = DefaultGatherTimeout
	}
	if cfg.MediaTimeout == 0 {
		cfg.MediaTimeout = DefaultMediaTimeout
	}
	if cfg.PLIInterval == 0 {
		cfg.PLIInterval = DefaultPLIInterval
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Handler{cfg: cfg, log: log, ctx: ctx, cancel: cancel, sessions: map[string]*session{}}, nil
}

// ServeHTTP routes BasePath/{stream} (POST, OPTIONS) and
// BasePath/{stream}/{session} (DELETE, OPTIONS; PATCH gets 405: no
// trickle ICE or ICE restart).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.cors(w, r)
	rest, ok := strings.CutPrefix(r.URL.Path, h.cfg.BasePath+"/")
	parts := strings.Split(rest, "/")
	if !ok || slices.Contains(parts, "") || len(parts) > 2 {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	stream := parts[0]
	if len(parts) == 1 {
		switch r.Method {
		case http.MethodPost:
			h.post(w, r, stream)
		case http.MethodOptions:
			w.Header().Set("Accept-Post", "application/sdp")
			h.options(w, r, "OPTIONS, POST")
		default:
			w.Header().Set("Allow", "OPTIONS, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
		return
	}
	switch r.Method {
	case http.MethodDelete:
		h.delete(w, r, stream, parts[1])
	case http.MethodOptions:
		h.options(w, r, "OPTIONS, DELETE")
	default:
		w.Header().Set("Allow", "OPTIONS, DELETE")
		http.Error(w, "method not allowed (no trickle ICE or ICE restart)", http.StatusMethodNotAllowed)
	}
}

// Close ends every session (Session.End gets ErrServerClosed), refuses
// new ones with 503, and returns once their goroutines have finished.
func (h *Handler) Close() {
	h.mu.Lock()
	h.closed = true
	sessions := make([]*session, 0, len(h.sessions))
	for _, s := range h.sessions {
		sessions = append(sessions, s)
	}
	h.mu.Unlock()
	h.cancel()
	for _, s := range sessions {
		s.stop(ErrServerClosed)
	}
	h.wg.Wait()
}

// post starts a session: authorize, read and check the offer, begin the
// Sink's session, answer once ICE gathering completes.
func (h *Handler) post(w http.ResponseWriter, r *http.Request, stream string) {
	if !h.enter() {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	defer h.wg.Done()
	log := h.log.With("stream", stream, "remote", r.RemoteAddr)

	key, ok := bearer(r)
	if !ok || !h.cfg.Authorize(stream, key) {
		log.Warn("whip: publish refused", "err", "missing or unknown bearer token")
		w.Header().Set("WWW-Authenticate", `Bearer realm="whip"`)
		http.Error(w, "missing or unknown stream key (Authorization: Bearer <key>)", http.StatusUnauthorized)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/sdp" {
		http.Error(w, "Content-Type must be application/sdp", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxOfferBytes))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			http.Error(w, fmt.Sprintf("SDP offer over %d bytes", h.cfg.MaxOfferBytes), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "read offer: "+err.Error(), http.StatusBadRequest)
		return
	}
	o, err := parseOffer(body)
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, ErrNoH264) {
			code = http.StatusNotAcceptable
		}
		log.Warn("whip: publish refused", "err", err)
		http.Error(w, err.Error(), code)
		return
	}
	sess, err := h.cfg.Sink.Begin(stream)
	if err != nil {
		code := http.StatusServiceUnavailable
		if errors.Is(err, ErrBusy) {
			code = http.StatusConflict
		}
		log.Warn("whip: publish refused", "err", err)
		http.Error(w, err.Error(), code)
		return
	}

	s, answer, err := h.newSession(r.Context(), stream, o, body, sess, log)
	if err != nil {
		sess.End(err)
		log.Warn("whip: publish failed", "err", err)
		code := http.StatusInternalServerError
		if errors.Is(err, ErrBadOffer) {
			code = http.StatusBadRequest
		}
		http.Error(w, err.Error(), code)
		return
	}
	if !h.add(s) {
		s.abort(ErrServerClosed)
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		s.run()
		h.remove(s)
	}()
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", h.cfg.BasePath+"/"+url.PathEscape(stream)+"/"+s.id)
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, answer)
}

// delete ends the session at the Location that POST returned, and returns
// once Session.End was called. The unguessable session id is the
// credential: no bearer token is required.
func (h *Handler) delete(w http.ResponseWriter, r *http.Request, stream, id string) {
	h.mu.Lock()
	s := h.sessions[id]
	h.mu.Unlock()
	if s == nil || s.stream != stream {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	s.stop(nil)
	select {
	case <-s.finished:
		w.WriteHeader(http.StatusOK)
	case <-r.Context().Done():
	}
}

// CORS answers for browser publishers on other origins (WHIP, RFC 9725
// §4.6): a preflight may ask for any method a WHIP client sends (PATCH
// included: it then gets a readable 405, not a CORS failure) and the
// headers it sends; the answer's Location (the session URL), Link (ICE
// servers) and ETag are readable.
const (
	corsMethods = "POST, PATCH, DELETE, OPTIONS"
	corsHeaders = "Authorization, Content-Type, If-Match"
	corsExpose  = "Location, Link, ETag"
)

// options answers OPTIONS, including CORS preflights (headers set by cors).
func (h *Handler) options(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	if w.Header().Get("Access-Control-Allow-Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		w.Header().Set("Access-Control-Allow-Methods", corsMethods)
		w.Header().Set("Access-Control-Allow-Headers", corsHeaders)
		w.Header().Set("Access-Control-Max-Age", "86400")
	}
	w.WriteHeader(http.StatusNoContent)
}

// cors allows a listed Origin to read the response, Location included.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	w.Header().Add("Vary", "Origin")
	if !slices.Contains(h.cfg.AllowedOrigins, origin) && !slices.Contains(h.cfg.AllowedOrigins, "*") {
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Expose-Headers", corsExpose)
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

// enter counts a POST in progress, unless the Handler is closed.
func (h *Handler) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.wg.Add(1)
	return true
}

func (h *Handler) add(s *session) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.sessions[s.id] = s
	return true
}

func (h *Handler) remove(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.sessions, s.id)
}

// newID returns a random session id: 128 bits in hex.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
