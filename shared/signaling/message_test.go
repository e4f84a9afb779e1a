package signaling

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// cases drives the round-trip test and seeds FuzzDecode.
var cases = []struct {
	name string
	msg  Message
}{
	{"join", Message{Type: TypeJoin, Stream: "demo"}},
	{"welcome", Message{Type: TypeWelcome, ID: "a1b2", ServerTime: 1764000000000,
		ICEServers: []ICEServer{{URLs: []string{"stun:stun.example.org"}}}}},
	{"neighbour", Message{Type: TypeNeighbour, Peer: "p1", Initiator: true, Origin: true}},
	{"offer", Message{Type: TypeOffer, Peer: "p1", SDP: "v=0\r\n"}},
	{"answer", Message{Type: TypeAnswer, Peer: "p1", SDP: "v=0\r\n"}},
	{"candidate", Message{Type: TypeCandidate, Peer: "p1", Candidate: &Candidate{
		Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host", SDPMid: ptr("0"), SDPMLineIndex: ptr[uint16](0)}}},
	{"peer-left", Message{Type: TypePeerLeft, Peer: "p1", Text: "left the stream"}},
	{"drop", Message{Type: TypeDrop, Peer: "p1", Text: "connection failed"}},
	{"report", Message{Type: TypeReport, Peer: "p1", Text: "integrity: chunk fails verification: chunk 7: bad signature"}},
	{"welcome with stream key", Message{Type: TypeWelcome, ID: "a1b2", StreamKey: "x3YtlKIn2yVvzdOtFbI0MpkJ8XOdwjtHwCE_OobXm-w"}},
	{"welcome with live edge", Message{Type: TypeWelcome, ID: "a1b2", Newest: 1764000000123, Keyframe: 1764000000120}},
	{"live", Message{Type: TypeLive, Newest: 1764000000123, Keyframe: 1764000000064}},
	{"live without keyframe", Message{Type: TypeLive, Newest: 1764000000123}},
	{"live at the bound", Message{Type: TypeLive, Newest: MaxSeq, Keyframe: MaxSeq}},
	{"quarantined", Message{Type: TypeError, Code: CodeQuarantined, Text: "your neighbours reported you"}},
	{"error", Message{Type: TypeError, Code: CodeRateLimited, Text: "slow down"}},
	{"chat-join", Message{Type: TypeChatJoin, Stream: "demo"}},
	{"chat-welcome", Message{Type: TypeChatWelcome, Stream: "demo", Moderator: true, Count: 3}},
	{"chat-send", Message{Type: TypeChatSend, Nick: "Zoë_1", Text: "hello <img src=x onerror=alert(1)>"}},
	{"chat-send longest", Message{Type: TypeChatSend, Nick: strings.Repeat("é", MaxNickname), Text: strings.Repeat("€", MaxChatText)}},
	{"chat-msg", Message{Type: TypeChatMsg, MsgID: 42, Nick: "ann", Text: "hi", ServerTime: 1764000000000}},
	{"chat-delete", Message{Type: TypeChatDelete, MsgID: 42}},
	{"chat-ban", Message{Type: TypeChatBan, MsgID: 42, DurationMs: 300_000, Text: "spam"}},
	{"chat-ban nick", Message{Type: TypeChatBan, Nick: "spammer"}},
	{"chat-count", Message{Type: TypeChatCount, Count: 12}},
	{"chat-error", Message{Type: TypeError, Code: CodeChatRateLimited, Text: "wait a second"}},
}

func TestRoundTrip(t *testing.T) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Encode(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode(%s): %v", b, err)
			}
			again, _ := Encode(got)
			if string(again) != string(b) {
				t.Fatalf("round trip changed the message:\n%s\n%s", b, again)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", ``, ErrInvalid},
		{"not json", `hello`, ErrInvalid},
		{"array", `[1,2]`, ErrInvalid},
		{"no version", `{"type":"join","stream":"demo"}`, ErrBadVersion},
		{"future version", `{"v":2,"type":"join","stream":"demo"}`, ErrBadVersion},
		{"unknown type", `{"v":1,"type":"launch"}`, ErrInvalid},
		{"join without stream", `{"v":1,"type":"join"}`, ErrInvalid},
		{"stream with slash", `{"v":1,"type":"join","stream":"../etc"}`, ErrInvalid},
		{"stream too long", `{"v":1,"type":"join","stream":"` + strings.Repeat("a", 65) + `"}`, ErrInvalid},
		{"offer without sdp", `{"v":1,"type":"offer","peer":"p1"}`, ErrInvalid},
		{"offer without peer", `{"v":1,"type":"offer","sdp":"v=0"}`, ErrInvalid},
		{"peer with html", `{"v":1,"type":"drop","peer":"<b>"}`, ErrInvalid},
		{"candidate missing", `{"v":1,"type":"candidate","peer":"p1"}`, ErrInvalid},
		{"sdp too large", `{"v":1,"type":"offer","peer":"p1","sdp":"` + strings.Repeat("a", MaxSDPSize+1) + `"}`, ErrInvalid},
		{"message too large", `{"v":1,"type":"join","stream":"demo","text":"` + strings.Repeat("a", MaxMessageSize) + `"}`, ErrTooLarge},
		{"wrong field type", `{"v":1,"type":"join","stream":5}`, ErrInvalid},
		{"chat-join without stream", `{"v":1,"type":"chat-join"}`, ErrInvalid},
		{"chat-send without nick", `{"v":1,"type":"chat-send","text":"hi"}`, ErrInvalid},
		{"chat-send blank", `{"v":1,"type":"chat-send","nick":"a","text":" \n "}`, ErrInvalid},
		{"chat-send too many bytes", `{"v":1,"type":"chat-send","nick":"a","text":"` + strings.Repeat("a", MaxChatText*4+1) + `"}`, ErrInvalid},
		{"chat-msg too long", `{"v":1,"type":"chat-msg","msgId":1,"nick":"a","text":"` + strings.Repeat("a", MaxChatText+1) + `"}`, ErrInvalid},
		{"nick with space", `{"v":1,"type":"chat-send","nick":"a b","text":"hi"}`, ErrInvalid},
		{"nick with html", `{"v":1,"type":"chat-send","nick":"<b>","text":"hi"}`, ErrInvalid},
		{"nick too long", `{"v":1,"type":"chat-send","nick":"` + strings.Repeat("a", MaxNickname+1) + `","text":"hi"}`, ErrInvalid},
		{"chat-msg without id", `{"v":1,"type":"chat-msg","nick":"a","text":"hi"}`, ErrInvalid},
		{"chat-delete without id", `{"v":1,"type":"chat-delete"}`, ErrInvalid},
		{"chat-delete negative id", `{"v":1,"type":"chat-delete","msgId":-1}`, ErrInvalid},
		{"chat-ban without target", `{"v":1,"type":"chat-ban","durationMs":1000}`, ErrInvalid},
		{"chat-ban too long", `{"v":1,"type":"chat-ban","msgId":1,"durationMs":99999999999}`, ErrInvalid},
		{"negative count", `{"v":1,"type":"chat-count","count":-1}`, ErrInvalid},
		{"report without peer", `{"v":1,"type":"report","text":"bad"}`, ErrInvalid},
		{"stream key too short", `{"v":1,"type":"welcome","id":"x","streamKey":"abc"}`, ErrInvalid},
		{"stream key padded", `{"v":1,"type":"welcome","id":"x","streamKey":"x3YtlKIn2yVvzdOtFbI0MpkJ8XOdwjtHwCE_OobXm-="}`, ErrInvalid},
		{"stream key std alphabet", `{"v":1,"type":"welcome","id":"x","streamKey":"x3YtlKIn2yVvzdOtFbI0MpkJ8XOdwjtHwCE/OobXm+w"}`, ErrInvalid},
		{"live without newest", `{"v":1,"type":"live"}`, ErrInvalid},
		{"live keyframe after newest", `{"v":1,"type":"live","newest":10,"keyframe":11}`, ErrInvalid},
		{"live keyframe without newest", `{"v":1,"type":"live","keyframe":11}`, ErrInvalid},
		{"live newest beyond 2^53", `{"v":1,"type":"live","newest":9007199254740992}`, ErrInvalid},
		{"live newest beyond uint64", `{"v":1,"type":"live","newest":18446744073709551616}`, ErrInvalid},
		{"live negative newest", `{"v":1,"type":"live","newest":-1}`, ErrInvalid},
		{"live fractional newest", `{"v":1,"type":"live","newest":1.5}`, ErrInvalid},
		{"welcome keyframe after newest", `{"v":1,"type":"welcome","id":"x","newest":5,"keyframe":6}`, ErrInvalid},
		{"too many ice servers", `{"v":1,"type":"welcome","id":"x","iceServers":[` + strings.Repeat(`{"urls":["stun:a"]},`, MaxICEServers) + `{"urls":["stun:a"]}]}`, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestDecodeTypes checks what the JSON decoders (decode_native.go: the
// server's encoding/json; decode_js.go: the browser's JSON.parse, run under
// Node by TestDecodeInBrowser) make of fields of the wrong JSON type, nulls
// and nesting: both must agree.
func TestDecodeTypes(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error    // nil: decodes to msg
		msg  *Message // with V
	}{
		{"null document", `null`, ErrBadVersion, nil},
		{"string document", `"join"`, ErrInvalid, nil},
		{"version as string", `{"v":"1","type":"join","stream":"demo"}`, ErrInvalid, nil},
		{"fractional version", `{"v":1.5,"type":"join","stream":"demo"}`, ErrInvalid, nil},
		{"bool as string", `{"v":1,"type":"neighbour","peer":"p1","initiator":"yes"}`, ErrInvalid, nil},
		{"number as bool", `{"v":1,"type":"error","code":"x","msgId":true}`, ErrInvalid, nil},
		{"candidate as string", `{"v":1,"type":"candidate","peer":"p1","candidate":"c"}`, ErrInvalid, nil},
		{"candidate line index too big", `{"v":1,"type":"candidate","peer":"p1","candidate":{"candidate":"c","sdpMLineIndex":70000}}`, ErrInvalid, nil},
		{"candidate mid as number", `{"v":1,"type":"candidate","peer":"p1","candidate":{"candidate":"c","sdpMid":0}}`, ErrInvalid, nil},
		{"ice servers as object", `{"v":1,"type":"welcome","id":"x","iceServers":{"urls":["stun:a"]}}`, ErrInvalid, nil},
		{"ice server urls as string", `{"v":1,"type":"welcome","id":"x","iceServers":[{"urls":"stun:a"}]}`, ErrInvalid, nil},
		{"ice server url as number", `{"v":1,"type":"welcome","id":"x","iceServers":[{"urls":[1]}]}`, ErrInvalid, nil},
		{"negative serverTime", `{"v":1,"type":"welcome","id":"x","serverTime":-5}`, nil,
			&Message{V: 1, Type: TypeWelcome, ID: "x", ServerTime: -5}},
		{"nulls read as missing", `{"v":1,"type":"candidate","peer":"p1","text":null,"candidate":{"candidate":"c","sdpMid":null,"sdpMLineIndex":null}}`, nil,
			&Message{V: 1, Type: TypeCandidate, Peer: "p1", Candidate: &Candidate{Candidate: "c"}}},
		{"candidate fields", `{"v":1,"type":"candidate","peer":"p1","candidate":{"candidate":"c","sdpMid":"0","sdpMLineIndex":3}}`, nil,
			&Message{V: 1, Type: TypeCandidate, Peer: "p1", Candidate: &Candidate{Candidate: "c", SDPMid: ptr("0"), SDPMLineIndex: ptr[uint16](3)}}},
		{"unknown fields ignored", `{"v":1,"type":"live","newest":7,"extra":{"a":[1,{"b":null}]},"more":"x"}`, nil,
			&Message{V: 1, Type: TypeLive, Newest: 7}},
		{"ice servers", `{"v":1,"type":"welcome","id":"x","iceServers":[null,{"urls":["turn:t"],"username":"u","credential":"p"}]}`, nil,
			&Message{V: 1, Type: TypeWelcome, ID: "x", ICEServers: []ICEServer{{}, {URLs: []string{"turn:t"}, Username: "u", Credential: "p"}}}},
		{"escapes", `{"v":1,"type":"offer","peer":"p1","sdp":"v=0\r\na=\u00e9\"\/"}`, nil,
			&Message{V: 1, Type: TypeOffer, Peer: "p1", SDP: "v=0\r\na=é\"/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.in))
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("Decode = %+v, %v; want %v", got, err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, *tt.msg) {
				t.Fatalf("Decode = %+v, want %+v", got, *tt.msg)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, tt := range cases {
		b, _ := Encode(tt.msg)
		f.Add(b)
	}
	f.Add([]byte(`{"v":1,"type":"candidate","peer":"p","candidate":null}`))
	f.Add([]byte(`{"v":1,"type":"live","newest":9007199254740992,"keyframe":1e3}`))
	f.Add([]byte(`{"v":1,"type":"live","newest":1e400}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Decode accepted a message Validate rejects: %v", err)
		}
		again, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(again); err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
	})
}
