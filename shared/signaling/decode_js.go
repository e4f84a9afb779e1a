//go:build js && wasm

package signaling

import (
	"math"

	"github.com/shoal-live/shoal/shared/jsbridge"
)

// unmarshal fills m from the JSON document b with the browser's JSON.parse
// (jsbridge.ParseJSON says why not encoding/json). It reads the fields
// encoding/json would, by their exact names, and refuses the same wrong
// types; unlike encoding/json it also refuses integers beyond 2^53-1,
// which no message carries (MaxSeq), and does not match names without
// regard to case.
func unmarshal(b []byte, m *Message) error {
	o, err := jsbridge.ParseJSON(string(b))
	if err != nil {
		return err
	}
	*m = Message{
		V:          int(o.Int("v", math.MinInt64, math.MaxInt64)),
		Type:       Type(o.String("type")),
		Stream:     o.String("stream"),
		ID:         o.String("id"),
		Peer:       o.String("peer"),
		Initiator:  o.Bool("initiator"),
		Origin:     o.Bool("origin"),
		SDP:        o.String("sdp"),
		ServerTime: o.Int("serverTime", math.MinInt64, math.MaxInt64),
		StreamKey:  o.String("streamKey"),
		Newest:     uint64(o.Int("newest", 0, math.MaxInt64)),
		Keyframe:   uint64(o.Int("keyframe", 0, math.MaxInt64)),
		Code:       o.String("code"),
		Text:       o.String("text"),
		Nick:       o.String("nick"),
		MsgID:      o.Int("msgId", math.MinInt64, math.MaxInt64),
		Moderator:  o.Bool("moderator"),
		Count:      int(o.Int("count", math.MinInt64, math.MaxInt64)),
		DurationMs: o.Int("durationMs", math.MinInt64, math.MaxInt64),
	}
	if o.Has("candidate") {
		c := o.Object("candidate")
		m.Candidate = &Candidate{Candidate: c.String("candidate")}
		if c.Has("sdpMid") {
			mid := c.String("sdpMid")
			m.Candidate.SDPMid = &mid
		}
		if c.Has("sdpMLineIndex") {
			i := uint16(c.Int("sdpMLineIndex", 0, math.MaxUint16))
			m.Candidate.SDPMLineIndex = &i
		}
	}
	o.Each("iceServers", func(e *jsbridge.Object) {
		m.ICEServers = append(m.ICEServers, ICEServer{
			URLs:       e.Strings("urls"),
			Username:   e.String("username"),
			Credential: e.String("credential"),
		})
	})
	return o.Err()
}
