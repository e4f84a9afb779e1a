// Package chat runs the chat rooms beside Shoal's streams: one room per
// stream, over the signaling WebSocket (a connection whose first message is
// chat-join; see docs/PROTOCOL.md §1, "Chat").
//
// Viewers need no account: each message carries a nickname. The hub bounds
// what one connection may do (message length, a per-connection rate, a
// room-wide rate), keeps a stream's messages in the store so that they
// survive restarts (the last 100 go to whoever joins; the history is pruned
// by age and count, Config.MaxAge and MaxMessages, on every message and
// every PruneInterval), and lets the stream's owner (a broadcaster signed
// in with a session cookie) delete messages and time out or ban their
// authors. Text is stored and relayed as it was typed: pages render it as
// text, never as HTML.
//
// # Bans
//
// A ban covers the author's nickname (ignoring case) and their address: each
// message is stored with a fingerprint, "addr:" and a keyed hash
// (HMAC-SHA-256 under Config.Salt) of the client's address, an IPv6 address
// cut to its /64 (one customer's usual allocation). A banned viewer who
// reconnects, with a new nickname or not, is still refused, and the store
// never holds an address in the clear. The salt must outlive restarts for
// bans to hold across them (the server keeps it in the store); whoever has
// the salt and a hash can find an IPv4 address by trying all 2^32, so the
// database stays as private as its password hashes. Everyone behind one
// address (a household, a carrier-grade NAT) shares its bans.
//
// A stream without a row in the store (the demo stream, a stream given by
// -stream-keys) still has a room if it exists (Config.Streams says so); its
// history and bans then live in memory only and it has no moderator.
package chat

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/store"
)

// Store keeps stored streams' chat and bans; a *store.DB has it all.
type Store interface {
	History
}

// Streams is the one answer to "does this stream exist?" (package streams'
// Lookup): whether it does, and its row in the store (nil without one).
// err is a failure of the store, not its "not found".
type Streams interface {
	Lookup(ctx context.Context, name string) (st *store.Stream, exists bool, err error)
}

// History keeps one stream's chat and bans ([store.Chat] and the part of
// [store.Bans] the hub uses).
type History interface {
	AppendChat(ctx context.Context, m store.ChatMessage) (store.ChatMessage, error)
	RecentChat(ctx context.Context, streamID int64, n int) ([]store.ChatMessage, error)
	DeleteChat(ctx context.Context, streamID, id int64) (bool, error)
	PruneChat(ctx context.Context, streamID int64, before time.Time, keep int) (int, error)
	Ban(ctx context.Context, b store.Ban) (store.Ban, error)
	Banned(ctx context.Context, streamID int64, nickname, fingerprint string) (store.Ban, bool, error)
}

// Defaults of [Config].
const (
	DefaultHistory   = 100
	DefaultRate      = 1.0 // messages per second per connection
	DefaultBurst     = 5
	DefaultRoomRate  = 20.0 // messages per second in one room
	DefaultRoomBurst = 40
	// DefaultMaxAge and DefaultMaxMessages bound a stream's stored
	// history: a week, and the last 1,000 messages.
	DefaultMaxAge      = 7 * 24 * time.Hour
	DefaultMaxMessages = 1000
	// DefaultPruneInterval is how often every stream's history is pruned
	// by age (each message sent prunes its own stream at once).
	DefaultPruneInterval = 10 * time.Minute
	// CountInterval is how often a room's changed head count is sent.
	CountInterval = 2 * time.Second
	// authorsKept is how many recent messages' authors a room remembers,
	// so a moderator can ban the author of a message on screen.
	authorsKept = 1000
	// memBans bounds the bans of a memory-only room.
	memBans = 1000
)

// ErrNoRoom is returned by Join for a stream that has no chat.
var ErrNoRoom = errors.New("chat: no such stream")

// Config configures [New]. Everything is optional.
type Config struct {
	// Streams says which streams have a room: a stream with a row in the
	// store has a persisted room its owner moderates, one that exists
	// without a row (the demo stream, streams from -stream-keys) a
	// memory-only room. Nil: no stream has a room.
	Streams Streams
	// Store persists the chat and bans of streams with a row; nil keeps
	// every room in memory (no moderator).
	Store Store
	// History is how many messages a joining viewer is sent (default and
	// at most 100).
	History int
	// Rate and Burst limit one connection's messages (default 1/s, burst 5).
	Rate  float64
	Burst int
	// RoomRate and RoomBurst limit a whole room (default 20/s, burst 40),
	// so that a crowd cannot flood everyone's connection.
	RoomRate  float64
	RoomBurst int
	// MaxAge and MaxMessages bound each stream's stored history (default
	// DefaultMaxAge, a week, and DefaultMaxMessages, 1,000; MaxMessages is
	// at least History). PruneInterval is how often Run prunes every
	// stream by age (default DefaultPruneInterval).
	MaxAge        time.Duration
	MaxMessages   int
	PruneInterval time.Duration
	// Salt keys the hash of a client's address that bans match (see
	// "Bans" above); keep it across restarts. Nil: a random salt, so bans
	// by address last until the hub is gone.
	Salt []byte
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Hub holds the rooms. Its methods are safe for concurrent use.
type Hub struct {
	cfg Config
	log *slog.Logger

	mu    sync.Mutex
	rooms map[string]*room
	mem   map[string]*memHistory // memory-only rooms' history, kept while the server runs
}

type room struct {
	name      string
	streamID  int64 // 0 in a memory-only room
	ownerID   int64 // 0: nobody moderates
	hist      History
	limit     *rate.Limiter
	clients   map[*Client]struct{}
	sentCount int              // head count last broadcast
	authors   map[int64]author // recent messages' authors, for bans
	order     []int64          // ids in authors, oldest first
}

type author struct{ nick, fingerprint string }

// New returns a hub.
func New(cfg Config) *Hub {
	if cfg.History <= 0 || cfg.History > store.MaxRecentChat {
		cfg.History = DefaultHistory
	}
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.RoomRate <= 0 {
		cfg.RoomRate = DefaultRoomRate
	}
	if cfg.RoomBurst <= 0 {
		cfg.RoomBurst = DefaultRoomBurst
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.MaxMessages <= 0 {
		cfg.MaxMessages = DefaultMaxMessages
	}
	cfg.MaxMessages = max(cfg.MaxMessages, cfg.History)
	if cfg.PruneInterval <= 0 {
		cfg.PruneInterval = DefaultPruneInterval
	}
	if len(cfg.Salt) == 0 {
		cfg.Salt = make([]byte, 32)
		rand.Read(cfg.Salt) // never fails (crypto/rand)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Hub{cfg: cfg, log: cfg.Logger, rooms: make(map[string]*room), mem: make(map[string]*memHistory)}
}

// Client is one chat connection in one room.
type Client struct {
	hub         *Hub
	room        *room
	deliver     func(signaling.Message) bool
	fingerprint string
	moderator   bool
	limit       *rate.Limiter
}

// Join puts a connection in stream's room. accountID is the signed-in
// account of the connection (0 for none): the stream's owner moderates.
// addr is the client's address (the server's client-IP strategy decides
// which), that bans by address match. deliver queues a message to the
// connection without blocking (false if it could not). Join sends
// chat-welcome and the recent history.
func (h *Hub) Join(ctx context.Context, stream string, accountID int64, addr string, deliver func(signaling.Message) bool) (*Client, error) {
	if !signaling.ValidStream(stream) || h.cfg.Streams == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoRoom, stream)
	}
	row, exists, err := h.cfg.Streams.Lookup(ctx, stream)
	var (
		st   store.Stream
		hist History
	)
	switch {
	case err != nil:
		return nil, fmt.Errorf("chat: join %q: %w", stream, err)
	case !exists:
		return nil, fmt.Errorf("%w: %q", ErrNoRoom, stream)
	case row != nil && h.cfg.Store != nil:
		st, hist = *row, h.cfg.Store
	default:
		h.mu.Lock()
		mh := h.mem[stream]
		if mh == nil {
			mh = newMemHistory(h.cfg.Now)
			h.mem[stream] = mh
		}
		h.mu.Unlock()
		st, hist = store.Stream{Name: stream}, mh
	}
	recent, err := hist.RecentChat(ctx, st.ID, h.cfg.History)
	if err != nil {
		return nil, fmt.Errorf("chat: join %q: %w", stream, err)
	}

	c := &Client{
		hub:         h,
		deliver:     deliver,
		fingerprint: AddrFingerprint(h.cfg.Salt, addr),
		moderator:   accountID != 0 && accountID == st.OwnerID,
		limit:       rate.NewLimiter(rate.Limit(h.cfg.Rate), h.cfg.Burst),
	}
	switch {
	case c.moderator:
		c.fingerprint = "account:" + strconv.FormatInt(accountID, 10)
	case addr == "":
		// No address known (a caller without the server's client-IP
		// middleware): ban this connection only, not everyone else
		// without one.
		c.fingerprint = "conn:" + rand.Text()[:16]
	}
	h.mu.Lock()
	r := h.rooms[stream]
	if r == nil {
		r = &room{
			name: stream, streamID: st.ID, ownerID: st.OwnerID, hist: hist,
			limit:   rate.NewLimiter(rate.Limit(h.cfg.RoomRate), h.cfg.RoomBurst),
			clients: make(map[*Client]struct{}),
			authors: make(map[int64]author),
		}
		h.rooms[stream] = r
	}
	c.room = r
	r.clients[c] = struct{}{}
	for _, m := range recent {
		r.remember(m.ID, author{m.Nickname, m.Fingerprint})
	}
	count := len(r.clients)
	// Under the lock, so that no broadcast slips in before the history.
	deliver(signaling.Message{Type: signaling.TypeChatWelcome, Stream: stream, Moderator: c.moderator, Count: count})
	for _, m := range recent {
		deliver(chatMsg(m))
	}
	h.mu.Unlock()
	return c, nil
}

// chatMsg is the chat-msg a stored message becomes. A message from the
// stream owner's account is marked, so that nobody can pose as them.
func chatMsg(m store.ChatMessage) signaling.Message {
	return signaling.Message{
		Type: signaling.TypeChatMsg, MsgID: m.ID, Nick: m.Nickname, Text: m.Text,
		ServerTime: m.Time.UnixMilli(), Moderator: strings.HasPrefix(m.Fingerprint, "account:"),
	}
}

func (r *room) remember(id int64, a author) {
	if _, ok := r.authors[id]; ok {
		return
	}
	r.authors[id] = a
	r.order = append(r.order, id)
	if len(r.order) > authorsKept {
		delete(r.authors, r.order[0])
		r.order = r.order[1:]
	}
}

// Moderator reports whether the connection moderates its room.
func (c *Client) Moderator() bool { return c.moderator }

// Leave takes the connection out of its room.
func (c *Client) Leave() {
	h := c.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	r := c.room
	delete(r.clients, c)
	if len(r.clients) == 0 {
		delete(h.rooms, r.name)
	}
}

// Handle acts on one message from the connection. Refusals go back to it
// as error messages; the connection stays open.
func (c *Client) Handle(ctx context.Context, m signaling.Message) {
	var err error
	switch m.Type {
	case signaling.TypeChatSend:
		err = c.send(ctx, m)
	case signaling.TypeChatDelete:
		err = c.delete(ctx, m.MsgID)
	case signaling.TypeChatBan:
		err = c.ban(ctx, m)
	default:
		err = refusal(signaling.CodeBadMessage, fmt.Sprintf("unexpected %q message on a chat connection", m.Type))
	}
	if err == nil {
		return
	}
	var r *refused
	if !errors.As(err, &r) {
		c.hub.log.Error("chat", "stream", c.room.name, "type", m.Type, "err", err)
		r = &refused{signaling.CodeChatUnavailable, "Chat is unavailable right now; try again soon."}
	}
	c.deliver(signaling.Errorf(r.code, "%s", r.text))
}

// refused is an error the connection is told about.
type refused struct{ code, text string }

func (r *refused) Error() string { return r.code + ": " + r.text }

func refusal(code, text string) error { return &refused{code, text} }

func (c *Client) send(ctx context.Context, m signaling.Message) error {
	h, r := c.hub, c.room
	text := strings.TrimSpace(m.Text)
	switch {
	case !signaling.ValidNick(m.Nick):
		return refusal(signaling.CodeChatBadNick, fmt.Sprintf("A nickname is 1 to %d letters, digits, '_', '-' or '.'.", signaling.MaxNickname))
	case utf8.RuneCountInString(text) > signaling.MaxChatText:
		return refusal(signaling.CodeChatTooLong, fmt.Sprintf("Messages are at most %d characters; yours has %d.", signaling.MaxChatText, utf8.RuneCountInString(text)))
	case !signaling.ValidChatText(text):
		return refusal(signaling.CodeBadMessage, "Empty message.")
	}
	now := h.cfg.Now()
	if !c.limit.AllowN(now, 1) {
		return refusal(signaling.CodeChatRateLimited, fmt.Sprintf("You are sending messages too fast: wait a moment (%g a second, %d in a row).", h.cfg.Rate, h.cfg.Burst))
	}
	if !c.moderator {
		b, banned, err := r.hist.Banned(ctx, r.streamID, m.Nick, c.fingerprint)
		if err != nil {
			return err
		}
		if banned {
			if b.Forever() {
				return refusal(signaling.CodeChatBanned, "You are banned from this chat.")
			}
			left := max(b.Until.Sub(now).Round(time.Second), time.Second)
			return refusal(signaling.CodeChatBanned, fmt.Sprintf("You are timed out: you can chat again in %s.", left))
		}
	}
	if !r.limit.AllowN(now, 1) {
		return refusal(signaling.CodeChatRateLimited, "The chat is very busy: try again in a moment.")
	}
	saved, err := r.hist.AppendChat(ctx, store.ChatMessage{
		StreamID: r.streamID, Nickname: m.Nick, Fingerprint: c.fingerprint, Text: text, Time: now,
	})
	if err != nil {
		return err
	}
	// Prune on insert: a busy room never holds more than MaxMessages.
	if _, err := r.hist.PruneChat(ctx, r.streamID, now.Add(-h.cfg.MaxAge), h.cfg.MaxMessages); err != nil {
		h.log.Warn("chat: prune on insert", "stream", r.name, "err", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	r.remember(saved.ID, author{saved.Nickname, saved.Fingerprint})
	r.broadcast(chatMsg(saved))
	return nil
}

// broadcast sends m to everyone in the room; the hub's lock is held.
func (r *room) broadcast(m signaling.Message) {
	for c := range r.clients {
		c.deliver(m)
	}
}

func (c *Client) delete(ctx context.Context, id int64) error {
	if !c.moderator {
		return refusal(signaling.CodeChatForbidden, "Only the broadcaster can delete messages.")
	}
	r := c.room
	if _, err := r.hist.DeleteChat(ctx, r.streamID, id); err != nil {
		return err
	}
	c.hub.mu.Lock()
	defer c.hub.mu.Unlock()
	r.broadcast(signaling.Message{Type: signaling.TypeChatDelete, MsgID: id})
	return nil
}

// ban times out (DurationMs > 0) or bans for good the author of message
// MsgID (nickname and connection), or the nickname Nick.
func (c *Client) ban(ctx context.Context, m signaling.Message) error {
	if !c.moderator {
		return refusal(signaling.CodeChatForbidden, "Only the broadcaster can time out or ban.")
	}
	r, h := c.room, c.hub
	a := author{nick: m.Nick}
	if m.MsgID != 0 {
		h.mu.Lock()
		found, ok := r.authors[m.MsgID]
		h.mu.Unlock()
		if !ok {
			return refusal(signaling.CodeBadMessage, "That message is too old to ban its author; ban the nickname instead.")
		}
		a = found
	}
	if strings.HasPrefix(a.fingerprint, "account:") {
		return refusal(signaling.CodeBadMessage, "You cannot ban yourself.")
	}
	var until time.Time
	if m.DurationMs > 0 {
		until = h.cfg.Now().Add(time.Duration(m.DurationMs) * time.Millisecond)
	}
	reason := m.Text
	if utf8.RuneCountInString(reason) > store.MaxBanReasonLen {
		reason = string([]rune(reason)[:store.MaxBanReasonLen])
	}
	b := store.Ban{StreamID: r.streamID, Kind: store.BanNickname, Value: a.nick, Label: a.nick, Reason: reason, Until: until}
	if _, err := r.hist.Ban(ctx, b); err != nil {
		return err
	}
	if a.fingerprint != "" {
		b.Kind, b.Value = store.BanFingerprint, a.fingerprint
		if _, err := r.hist.Ban(ctx, b); err != nil {
			return err
		}
	}
	h.log.Info("chat ban", "stream", r.name, "nick", a.nick, "until", until)
	return nil
}

// Count returns how many connections are in stream's room.
func (h *Hub) Count(stream string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.rooms[stream]; r != nil {
		return len(r.clients)
	}
	return 0
}

// Run sends each room's head count when it changed, every CountInterval,
// and prunes every stream's history every PruneInterval (and once at
// start), until ctx ends.
func (h *Hub) Run(ctx context.Context) {
	t := time.NewTicker(CountInterval)
	defer t.Stop()
	p := time.NewTicker(h.cfg.PruneInterval)
	defer p.Stop()
	h.Prune(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.flushCounts()
		case <-p.C:
			h.Prune(ctx)
		}
	}
}

// Prune deletes, in every stream, the messages older than MaxAge and all
// but the newest MaxMessages, and returns how many went. Run calls it on
// schedule; errors are logged.
func (h *Hub) Prune(ctx context.Context) int {
	before := h.cfg.Now().Add(-h.cfg.MaxAge)
	total := 0
	if h.cfg.Store != nil {
		n, err := h.cfg.Store.PruneChat(ctx, 0, before, h.cfg.MaxMessages)
		if err != nil {
			h.log.Warn("chat: prune", "err", err)
		}
		total += n
	}
	h.mu.Lock()
	mems := make([]*memHistory, 0, len(h.mem))
	for _, m := range h.mem {
		mems = append(mems, m)
	}
	h.mu.Unlock()
	for _, m := range mems {
		n, _ := m.PruneChat(ctx, 0, before, h.cfg.MaxMessages)
		total += n
	}
	if total > 0 {
		h.log.Info("chat: pruned history", "messages", total, "older_than", before, "keep", h.cfg.MaxMessages)
	}
	return total
}

// AddrFingerprint is the fingerprint the hub gives a client at addr, and
// that bans by address match: "addr:" and the base64 of the first 16
// bytes of HMAC-SHA-256(salt, address). An IPv6 address counts by its /64,
// an IPv4-mapped one as IPv4; a string that is no IP address is hashed as
// it is.
func AddrFingerprint(salt []byte, addr string) string {
	key := addr
	if ip, err := netip.ParseAddr(strings.Trim(addr, "[]")); err == nil {
		ip = ip.Unmap().WithZone("")
		if ip.Is6() {
			p, _ := ip.Prefix(64)
			key = p.String()
		} else {
			key = ip.String()
		}
	}
	m := hmac.New(sha256.New, salt)
	m.Write([]byte("shoal chat address v1\x00"))
	m.Write([]byte(key))
	return "addr:" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

func (h *Hub) flushCounts() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.rooms {
		if n := len(r.clients); n != r.sentCount {
			r.sentCount = n
			r.broadcast(signaling.Message{Type: signaling.TypeChatCount, Count: n})
		}
	}
}

// memHistory keeps a memory-only room's last messages and bans.
type memHistory struct {
	now  func() time.Time
	mu   sync.Mutex
	next int64
	msgs []store.ChatMessage // at most store.MaxRecentChat, oldest first
	bans map[string]store.Ban
}

func newMemHistory(now func() time.Time) *memHistory {
	return &memHistory{now: now, bans: make(map[string]store.Ban)}
}

func (m *memHistory) AppendChat(_ context.Context, msg store.ChatMessage) (store.ChatMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	msg.ID = m.next
	if msg.Time.IsZero() {
		msg.Time = m.now()
	}
	m.msgs = append(m.msgs, msg)
	if len(m.msgs) > store.MaxRecentChat {
		m.msgs = m.msgs[len(m.msgs)-store.MaxRecentChat:]
	}
	return msg, nil
}

func (m *memHistory) RecentChat(_ context.Context, _ int64, n int) ([]store.ChatMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n = min(n, len(m.msgs))
	return append([]store.ChatMessage(nil), m.msgs[len(m.msgs)-n:]...), nil
}

func (m *memHistory) PruneChat(_ context.Context, _ int64, before time.Time, keep int) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.msgs)
	i := 0
	for i < len(m.msgs) && !before.IsZero() && m.msgs[i].Time.Before(before) {
		i++
	}
	if keep > 0 {
		i = max(i, len(m.msgs)-keep)
	}
	m.msgs = append([]store.ChatMessage(nil), m.msgs[i:]...)
	return n - len(m.msgs), nil
}

func (m *memHistory) DeleteChat(_ context.Context, _, id int64) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, msg := range m.msgs {
		if msg.ID == id {
			m.msgs = append(m.msgs[:i], m.msgs[i+1:]...)
			return true, nil
		}
	}
	return false, nil
}

func (m *memHistory) Ban(_ context.Context, b store.Ban) (store.Ban, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b.Kind == store.BanNickname {
		b.Value = strings.ToLower(b.Value)
	}
	now := m.now()
	for k, old := range m.bans {
		if !old.Forever() && !old.Until.After(now) {
			delete(m.bans, k)
		}
	}
	if len(m.bans) >= memBans {
		return store.Ban{}, fmt.Errorf("chat: ban: %w: too many bans in a memory-only room", store.ErrInvalid)
	}
	b.Created = now
	m.bans[string(b.Kind)+":"+b.Value] = b
	return b, nil
}

func (m *memHistory) Banned(_ context.Context, _ int64, nickname, fingerprint string) (store.Ban, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var best store.Ban
	found := false
	for _, k := range []string{"nickname:" + strings.ToLower(nickname), "fingerprint:" + fingerprint} {
		b, ok := m.bans[k]
		if !ok || (!b.Forever() && !b.Until.After(now)) {
			continue
		}
		if !found || b.Forever() || (!best.Forever() && b.Until.After(best.Until)) {
			best, found = b, true
		}
	}
	return best, found, nil
}
