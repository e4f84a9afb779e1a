package signaling

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Version is the signaling protocol version this package speaks.
const Version = 1

// Bounds on what one message may carry.
const (
	MaxMessageSize = 64 << 10 // bytes of one encoded message
	MaxSDPSize     = 16 << 10 // a data-channel offer or answer is 0.5-4 KiB
	// MaxPeerMessageSize bounds a message a peer sends the server: the
	// largest is an offer or answer of MaxSDPSize, with room for its JSON
	// escapes (two bytes per line end) and the other fields. The server
	// refuses a longer one before decoding it.
	MaxPeerMessageSize = MaxSDPSize + 8<<10
	MaxCandidateSize   = 1 << 10
	MaxSDPMid          = 64  // bytes of a candidate's sdpMid
	MaxTextSize        = 512 // error and reason texts
	MaxICEServers      = 8
	MaxChatText        = 500                   // characters of one chat message
	MaxNickname        = 24                    // characters of a chat nickname
	MaxBanDuration     = 30 * 24 * 3600 * 1000 // ms of a chat timeout; 0 bans for good
	// MaxSeq bounds chunk sequence numbers on the wire (newest,
	// keyframe): 2^53-1, the largest integer a JavaScript number holds
	// exactly. An origin numbers its chunks from its start time in
	// milliseconds (about 2^40.7 in 2026), far below it.
	MaxSeq = 1<<53 - 1
)

// Type says what a message is for.
type Type string

// Message types. "→ server" messages come from peers; "→ peer" from the
// server. Offer, Answer and Candidate go both ways: a peer names the target
// in Peer and the server rewrites Peer to the sender before relaying.
const (
	TypeJoin      Type = "join"      // → server: Stream
	TypeWelcome   Type = "welcome"   // → peer: ID, ServerTime, ICEServers, StreamKey, Newest, Keyframe
	TypeNeighbour Type = "neighbour" // → peer: Peer, Initiator, Origin
	TypeOffer     Type = "offer"     // both: Peer, SDP
	TypeAnswer    Type = "answer"    // both: Peer, SDP
	TypeCandidate Type = "candidate" // both: Peer, Candidate
	TypePeerLeft  Type = "peer-left" // → peer: Peer, Reason
	TypeDrop      Type = "drop"      // → server: Peer (connection failed or closed), Reason
	TypeReport    Type = "report"    // → server: Peer sent a chunk that failed verification (Text says how); like drop, and the tracker may stop introducing Peer
	TypeError     Type = "error"     // → peer: Code, Text
	TypeLive      Type = "live"      // → peer: Newest, Keyframe (the live edge; see docs/PROTOCOL.md §1)

	// Chat (see docs/PROTOCOL.md §1, "Chat"): a connection whose first message is
	// chat-join is a chat connection, not a swarm peer.
	TypeChatJoin    Type = "chat-join"    // → server: Stream
	TypeChatWelcome Type = "chat-welcome" // → peer: Stream, Moderator, Count; then up to 100 chat-msg (history)
	TypeChatSend    Type = "chat-send"    // → server: Nick, Text
	TypeChatMsg     Type = "chat-msg"     // → peer: MsgID, Nick, Text, ServerTime
	TypeChatDelete  Type = "chat-delete"  // both: MsgID (→ server: moderators only)
	TypeChatBan     Type = "chat-ban"     // → server (moderators): MsgID, DurationMs (0: for good), Text (reason)
	TypeChatCount   Type = "chat-count"   // → peer: Count (people in the room)
)

// Error codes sent in TypeError messages.
const (
	CodeBadMessage  = "bad-message"
	CodeBadVersion  = "bad-version"
	CodeRateLimited = "rate-limited"
	CodeSwarmFull   = "swarm-full"
	CodeNoSuchPeer  = "no-such-peer"
	CodeNotJoined   = "not-joined"
	CodeInternal    = "internal"
	CodeQuarantined = "quarantined" // neighbours reported chunks from you that fail verification
	// Chat errors leave the connection open.
	CodeChatRateLimited = "chat-rate-limited"
	CodeChatTooLong     = "chat-too-long"
	CodeChatBadNick     = "chat-bad-nick"
	CodeChatBanned      = "chat-banned"
	CodeChatForbidden   = "chat-forbidden"
	CodeChatUnavailable = "chat-unavailable"
)

// Message is every signaling message; Type says which fields matter.
type Message struct {
	V          int         `json:"v"`
	Type       Type        `json:"type"`
	Stream     string      `json:"stream,omitempty"`
	ID         string      `json:"id,omitempty"`
	Peer       string      `json:"peer,omitempty"`
	Initiator  bool        `json:"initiator,omitempty"`
	Origin     bool        `json:"origin,omitempty"`
	SDP        string      `json:"sdp,omitempty"`
	Candidate  *Candidate  `json:"candidate,omitempty"`
	ServerTime int64       `json:"serverTime,omitempty"` // unix milliseconds
	ICEServers []ICEServer `json:"iceServers,omitempty"`
	StreamKey  string      `json:"streamKey,omitempty"` // welcome: the stream's Ed25519 public key, 43 characters of unpadded base64url
	Newest     uint64      `json:"newest,omitempty"`    // welcome, live: the newest chunk the origin holds (0: none yet)
	Keyframe   uint64      `json:"keyframe,omitempty"`  // welcome, live: the newest keyframe chunk at or before Newest (0: not known)
	Code       string      `json:"code,omitempty"`
	Text       string      `json:"text,omitempty"`
	Nick       string      `json:"nick,omitempty"`       // chat
	MsgID      int64       `json:"msgId,omitempty"`      // chat
	Moderator  bool        `json:"moderator,omitempty"`  // chat-welcome
	Count      int         `json:"count,omitempty"`      // chat-welcome, chat-count
	DurationMs int64       `json:"durationMs,omitempty"` // chat-ban
}

// Candidate is an ICE candidate as RTCIceCandidateInit spells it.
type Candidate struct {
	Candidate     string  `json:"candidate"`
	SDPMid        *string `json:"sdpMid,omitempty"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex,omitempty"`
}

// ICEServer is a STUN or TURN server as RTCIceServer spells it.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Errors returned by Decode and Validate.
var (
	ErrTooLarge   = errors.New("signaling: message too large")
	ErrBadVersion = errors.New("signaling: unsupported protocol version")
	ErrInvalid    = errors.New("signaling: invalid message")
)

// ValidNick reports whether nick can be a chat nickname: 1 to MaxNickname
// letters, digits, '_', '-' or '.'.
func ValidNick(nick string) bool {
	if nick == "" || !utf8.ValidString(nick) || utf8.RuneCountInString(nick) > MaxNickname {
		return false
	}
	for _, r := range nick {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("_-.", r) {
			return false
		}
	}
	return true
}

// ValidChatText reports whether text can be a chat message: 1 to
// MaxChatText characters of UTF-8, not only white space.
func ValidChatText(text string) bool {
	return utf8.ValidString(text) && strings.TrimSpace(text) != "" && utf8.RuneCountInString(text) <= MaxChatText
}

// ValidStream reports whether name can name a stream: 1 to 64 letters,
// digits, '-' or '_'.
func ValidStream(name string) bool { return streamName.MatchString(name) }

// Encode returns m as JSON, with V set to Version.
func Encode(m Message) ([]byte, error) {
	m.V = Version
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("signaling: encode %s: %w", m.Type, err)
	}
	return b, nil
}

// Decode parses and validates one message.
func Decode(b []byte) (Message, error) {
	var m Message
	if len(b) > MaxMessageSize {
		return m, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), MaxMessageSize)
	}
	if err := unmarshal(b, &m); err != nil { // decode_native.go, decode_js.go
		return Message{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if m.V != Version {
		return Message{}, fmt.Errorf("%w: got %d, want %d", ErrBadVersion, m.V, Version)
	}
	if err := m.Validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// Validate checks that m has the fields its type needs, within bounds.
func (m Message) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, m.Type, fmt.Sprintf(format, args...))
	}
	if len(m.SDP) > MaxSDPSize {
		return bad("sdp is %d bytes, limit %d", len(m.SDP), MaxSDPSize)
	}
	if m.Candidate != nil && len(m.Candidate.Candidate) > MaxCandidateSize {
		return bad("candidate is %d bytes, limit %d", len(m.Candidate.Candidate), MaxCandidateSize)
	}
	if m.Candidate != nil && m.Candidate.SDPMid != nil && len(*m.Candidate.SDPMid) > MaxSDPMid {
		return bad("sdpMid is %d bytes, limit %d", len(*m.Candidate.SDPMid), MaxSDPMid)
	}
	maxText := MaxTextSize
	if m.Type == TypeChatSend || m.Type == TypeChatMsg {
		maxText = MaxChatText * utf8.UTFMax // the character count is checked below
	}
	if len(m.Text) > maxText || len(m.Code) > MaxTextSize {
		return bad("text longer than %d bytes", maxText)
	}
	if m.Nick != "" && !ValidNick(m.Nick) {
		return bad("nickname is not 1-%d letters, digits, '_', '-' or '.'", MaxNickname)
	}
	if m.MsgID < 0 || m.Count < 0 || m.DurationMs < 0 || m.DurationMs > MaxBanDuration {
		return bad("msgId, count or durationMs out of range")
	}
	if len(m.ICEServers) > MaxICEServers {
		return bad("more than %d ICE servers", MaxICEServers)
	}
	if m.StreamKey != "" && !streamKey.MatchString(m.StreamKey) {
		return bad("streamKey is not 43 characters of base64url")
	}
	if m.Peer != "" && !peerID.MatchString(m.Peer) {
		return bad("peer id %q is not 1-64 letters, digits, '-' or '_'", m.Peer)
	}
	if m.Newest > MaxSeq || m.Keyframe > m.Newest {
		return bad("newest %d and keyframe %d: want keyframe ≤ newest ≤ 2^53-1", m.Newest, m.Keyframe)
	}
	switch m.Type {
	case TypeJoin:
		if !ValidStream(m.Stream) {
			return bad("stream name %q is not 1-64 letters, digits, '-' or '_'", m.Stream)
		}
	case TypeWelcome:
		if !peerID.MatchString(m.ID) {
			return bad("id %q invalid", m.ID)
		}
	case TypeNeighbour, TypePeerLeft, TypeDrop, TypeReport:
		if m.Peer == "" {
			return bad("peer missing")
		}
	case TypeOffer, TypeAnswer:
		if m.Peer == "" || m.SDP == "" {
			return bad("peer and sdp required")
		}
	case TypeCandidate:
		if m.Peer == "" || m.Candidate == nil {
			return bad("peer and candidate required")
		}
	case TypeError:
		if m.Code == "" {
			return bad("code missing")
		}
	case TypeLive:
		if m.Newest == 0 {
			return bad("newest missing")
		}
	case TypeChatJoin, TypeChatWelcome:
		if !ValidStream(m.Stream) {
			return bad("stream name %q is not 1-64 letters, digits, '-' or '_'", m.Stream)
		}
	case TypeChatSend:
		// The character limit is the chat server's to enforce, with an
		// error that says so (CodeChatTooLong); here only the byte bound.
		if m.Nick == "" || strings.TrimSpace(m.Text) == "" {
			return bad("nick and text required")
		}
	case TypeChatMsg:
		if m.Nick == "" || !ValidChatText(m.Text) || m.MsgID == 0 {
			return bad("msgId, nick and 1-%d characters of text required", MaxChatText)
		}
	case TypeChatDelete:
		if m.MsgID == 0 {
			return bad("msgId missing")
		}
	case TypeChatBan:
		if m.MsgID == 0 && m.Nick == "" {
			return bad("msgId or nick required")
		}
	case TypeChatCount:
	default:
		return fmt.Errorf("%w: unknown type %q", ErrInvalid, m.Type)
	}
	return nil
}

// Errorf builds a TypeError message.
func Errorf(code, format string, args ...any) Message {
	text := fmt.Sprintf(format, args...)
	if len(text) > MaxTextSize {
		text = text[:MaxTextSize]
	}
	return Message{V: Version, Type: TypeError, Code: code, Text: text}
}
