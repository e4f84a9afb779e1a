package whip

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/shoal-live/shoal/shared/loopback"
)

// offer is what the handler takes from a publisher's SDP offer: the codecs
// it can send that the session accepts, with the publisher's payload types
// and format parameters, so that any H.264 profile is answered as offered.
type offer struct {
	h264 []webrtc.RTPCodecParameters // packetization mode 1
	opus []webrtc.RTPCodecParameters
}

// parseOffer checks that raw is an SDP offer with sendable H.264 video in
// packetization mode 1 and collects it and any sendable Opus audio.
func parseOffer(raw []byte) (offer, error) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(raw); err != nil {
		return offer{}, fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	if len(sd.MediaDescriptions) == 0 {
		return offer{}, fmt.Errorf("%w: no media section", ErrBadOffer)
	}
	var o offer
	var video []string // what was offered instead, for the error
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Port.Value == 0 || !sends(&sd, md) {
			continue
		}
		for _, c := range mediaCodecs(md) {
			switch {
			case md.MediaName.Media == "video" && strings.EqualFold(c.name, "H264"):
				if c.fmtp["packetization-mode"] == "1" && c.fmtp["profile-level-id"] != "" && c.rate == 90000 {
					o.h264 = append(o.h264, c.params(webrtc.MimeTypeH264))
				} else {
					video = append(video, "H264 "+c.fmtpLine)
				}
			case md.MediaName.Media == "video":
				video = append(video, c.name)
			case md.MediaName.Media == "audio" && strings.EqualFold(c.name, "opus") && c.rate == 48000:
				o.opus = append(o.opus, c.params(webrtc.MimeTypeOpus))
			}
		}
	}
	if len(o.h264) == 0 {
		if len(video) == 0 {
			return offer{}, fmt.Errorf("%w: no video is offered for sending", ErrNoH264)
		}
		return offer{}, fmt.Errorf("%w and profile-level-id (offered: %s); choose an H.264 encoder",
			ErrNoH264, strings.Join(video, ", "))
	}
	return o, nil
}

// sends reports whether the offerer sends on md: sendrecv (the default)
// or sendonly, at media or else session level.
func sends(sd *sdp.SessionDescription, md *sdp.MediaDescription) bool {
	for _, attrs := range [][]sdp.Attribute{md.Attributes, sd.Attributes} {
		for _, a := range attrs {
			switch a.Key {
			case "sendonly", "sendrecv":
				return true
			case "recvonly", "inactive":
				return false
			}
		}
	}
	return true
}

// offeredCodec is one payload type of a media section.
type offeredCodec struct {
	pt       uint8
	name     string
	rate     uint32
	channels uint16
	fmtpLine string
	fmtp     map[string]string
}

func (c offeredCodec) params(mime string) webrtc.RTPCodecParameters {
	return webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType:    mime,
			ClockRate:   c.rate,
			Channels:    c.channels,
			SDPFmtpLine: c.fmtpLine,
		},
		PayloadType: webrtc.PayloadType(c.pt),
	}
}

// mediaCodecs reads the rtpmap and fmtp attributes of md, in the order of
// its format list.
func mediaCodecs(md *sdp.MediaDescription) []offeredCodec {
	byPT := map[string]*offeredCodec{}
	var out []*offeredCodec
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 7)
		if err != nil || byPT[f] != nil {
			continue
		}
		c := &offeredCodec{pt: uint8(pt), fmtp: map[string]string{}}
		byPT[f] = c
		out = append(out, c)
	}
	for _, a := range md.Attributes {
		pt, value, _ := strings.Cut(a.Value, " ")
		c := byPT[pt]
		if c == nil {
			continue
		}
		switch a.Key {
		case "rtpmap": // <encoding name>/<clock rate>[/<channels>]
			parts := strings.Split(value, "/")
			c.name = parts[0]
			if len(parts) > 1 {
				r, _ := strconv.ParseUint(parts[1], 10, 32)
				c.rate = uint32(r)
			}
			if len(parts) > 2 {
				ch, _ := strconv.ParseUint(parts[2], 10, 16)
				c.channels = uint16(ch)
			}
		case "fmtp":
			c.fmtpLine = strings.TrimSpace(value)
			for kv := range strings.SplitSeq(c.fmtpLine, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
				c.fmtp[strings.ToLower(k)] = strings.TrimSpace(v)
			}
		}
	}
	res := make([]offeredCodec, 0, len(out))
	for _, c := range out {
		if c.name != "" {
			res = append(res, *c)
		}
	}
	return res
}

// newAPI builds a pion API that accepts exactly the offered codecs, with
// NACK, RTCP reports and transport-wide congestion control feedback, and
// the settings of base (nil: pion's defaults). With loopbackOnly it gathers
// only loopback host candidates, for tests.
func newAPI(o offer, base *webrtc.SettingEngine, loopbackOnly bool) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	for _, c := range o.h264 {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("whip: register H.264: %w", err)
		}
	}
	for _, c := range o.opus {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, fmt.Errorf("whip: register Opus: %w", err)
		}
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("whip: register interceptors: %w", err)
	}
	var se webrtc.SettingEngine
	if base != nil {
		se = *base
	}
	if loopbackOnly {
		loopback.Only(&se)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(se)), nil
}
