package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Scenario describes one run. The JSON form uses the same names as the
// swarmsim flags; zero values take the defaults of [Scenario.WithDefaults].
type Scenario struct {
	Name     string   `json:"name,omitempty"`
	Seed     uint64   `json:"seed"`
	Peers    int      `json:"peers"`    // initial audience, joining over Ramp
	Duration Duration `json:"duration"` // simulated time
	Ramp     Duration `json:"ramp"`     // the initial audience joins uniformly over [0, Ramp)

	Rate          Bitrate  `json:"rate"`          // stream bitrate
	ChunkInterval Duration `json:"chunkInterval"` // one chunk per interval (125 ms, as the server's -fragment-duration)

	// Churn is the fraction of Peers that leave at uniform random times in
	// [Ramp, Duration); each is replaced by a new viewer at once.
	Churn float64 `json:"churn"`
	// Flash viewers join uniformly within [FlashAt, FlashAt+FlashWindow).
	Flash       int      `json:"flash"`
	FlashAt     Duration `json:"flashAt"`
	FlashWindow Duration `json:"flashWindow"`

	UploadMix    Mix     `json:"uploadMix"`    // upload capacity classes, multiples of Rate
	DownloadMult float64 `json:"downloadMult"` // download capacity, multiple of Rate (10)
	OriginCopies float64 `json:"originCopies"` // origin upload, multiple of Rate (4)
	// OriginHTTP caps the origin's HTTP fallback side; 0 is unlimited.
	OriginHTTP Bitrate `json:"originHTTP"`

	LatencyMin    Duration `json:"latencyMin"`    // per-peer one-way latency, uniform (10 ms)
	LatencyMax    Duration `json:"latencyMax"`    // (150 ms)
	ServerLatency Duration `json:"serverLatency"` // the server's own one-way latency (10 ms)
	// ConnectRTTs is how many link round trips ICE, DTLS and SCTP take
	// after the answer reaches the initiator (3).
	ConnectRTTs float64 `json:"connectRTTs"`

	NAT          float64  `json:"nat"`          // share of viewer pairs that cannot connect (0.1)
	NATFailAfter Duration `json:"natFailAfter"` // when such a connection is declared failed (10 s)
	// Isolated is the share of viewers that no WebRTC link ever reaches
	// (UDP blocked): every connection of theirs, to the origin too, fails
	// after NATFailAfter. They play from HTTP fallback alone.
	Isolated float64 `json:"isolated,omitempty"`

	// KeyframeInterval is the time between keyframe chunks, rounded to
	// whole chunks (1 s, what broadcasters are asked for).
	KeyframeInterval Duration `json:"keyframeInterval,omitempty"`

	// Loss is the probability that one 1200-byte packet is lost. LossMode
	// "delay" (default) delivers the message one link RTT late, as the
	// reliable channel's retransmission does, and holds the messages behind
	// it; "drop" loses the whole message.
	Loss     float64 `json:"loss"`
	LossMode string  `json:"lossMode"`

	StartupChunks int      `json:"startupChunks"` // chunks held before playback starts (3)
	TickInterval  Duration `json:"tickInterval"`  // engine Tick period (50 ms, as shared/node)
	// MaxBuffered is the per-channel send buffer beyond which chunk
	// sends are dropped (4 MiB). shared/node now bounds it by time (1.5 s
	// of the stream, node.DefaultMaxQueue; 281 KiB at 1.5 Mbit/s): the
	// simulator keeps 4 MiB until its figures are measured again with that.
	MaxBuffered int64 `json:"maxBuffered"`

	Neighbours  int `json:"neighbours"`  // tracker: neighbours per viewer (8)
	OriginLinks int `json:"originLinks"` // tracker: viewers linked to the origin (16)
	// Stripes is the engine's stripe count (0 keeps its default).
	Stripes int `json:"stripes,omitempty"`

	// Engine overrides; zero keeps the engine's own default.
	Window         int      `json:"window,omitempty"`
	JoinBacklog    int      `json:"joinBacklog,omitempty"`
	RequestTimeout Duration `json:"requestTimeout,omitempty"`
	FallbackAfter  Duration `json:"fallbackAfter,omitempty"`
	MaxInflight    int      `json:"maxInflight,omitempty"`
	RepairAfter    Duration `json:"repairAfter,omitempty"`
	StatusInterval Duration `json:"statusInterval,omitempty"`
	SlotShare      float64  `json:"slotShare,omitempty"`
	MaxFetches     int      `json:"maxFetches,omitempty"`
	LonelyAfter    Duration `json:"lonelyAfter,omitempty"`
}

// Class is one upload capacity class: Share of the viewers upload Mult
// times the stream rate.
type Class struct {
	Share float64 `json:"share"`
	Mult  float64 `json:"mult"`
}

// DefaultMix is the default upload mix: 10% at 0.5×, 40% at 1.5×, 30% at
// 3× and 20% at 6× the stream rate (2.75× on average).
var defaultMix = Mix{{0.1, 0.5}, {0.4, 1.5}, {0.3, 3}, {0.2, 6}}

// DefaultMix returns the default upload mix.
func DefaultMix() Mix { return append(Mix(nil), defaultMix...) }

// TightMix is the default mix with every class scaled by 1.2/2.75, so that
// the average upload is 1.2× the stream rate while the spread (a 12:1 ratio
// between the best and worst class, and the shares) stays the same.
func TightMix() Mix {
	m := DefaultMix()
	k := 1.2 / m.Mean()
	for i := range m {
		m[i].Mult = math.Round(m[i].Mult*k*10000) / 10000
	}
	return m
}

// Mix is a set of upload classes. Its text form is "share:mult,…", for
// example "0.1:0.5,0.4:1.5,0.3:3,0.2:6".
type Mix []Class

// Mean returns the share-weighted average multiple.
func (m Mix) Mean() float64 {
	var s, w float64
	for _, c := range m {
		s += c.Share * c.Mult
		w += c.Share
	}
	if w == 0 {
		return 0
	}
	return s / w
}

func (m Mix) String() string {
	var b strings.Builder
	for i, c := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(c.Share, 'g', -1, 64))
		b.WriteByte(':')
		b.WriteString(strconv.FormatFloat(c.Mult, 'g', -1, 64))
	}
	return b.String()
}

// ParseMix parses the text form of a Mix.
func ParseMix(s string) (Mix, error) {
	var m Mix
	for _, part := range strings.Split(s, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return nil, fmt.Errorf("upload mix %q: want share:mult", part)
		}
		sh, err1 := strconv.ParseFloat(strings.TrimSuffix(a, "%"), 64)
		mu, err2 := strconv.ParseFloat(strings.TrimSuffix(b, "x"), 64)
		if err1 != nil || err2 != nil || sh <= 0 || mu < 0 {
			return nil, fmt.Errorf("upload mix %q: bad numbers", part)
		}
		if strings.HasSuffix(a, "%") {
			sh /= 100
		}
		m = append(m, Class{Share: sh, Mult: mu})
	}
	return m, nil
}

// Set implements flag.Value.
func (m *Mix) Set(s string) error {
	v, err := ParseMix(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// UnmarshalJSON accepts the text form or a list of classes.
func (m *Mix) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return m.Set(s)
	}
	var cs []Class
	if err := json.Unmarshal(b, &cs); err != nil {
		return err
	}
	*m = cs
	return nil
}

// Duration is a time.Duration written as "250ms" in JSON.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// Set implements flag.Value.
func (d *Duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON accepts "250ms" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return d.Set(s)
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*d = Duration(f * float64(time.Second))
	return nil
}

// Bitrate is bits per second, written "2M", "800k" or a plain number.
type Bitrate int64

func (r Bitrate) String() string {
	switch {
	case r != 0 && r%1_000_000 == 0:
		return strconv.FormatInt(int64(r)/1_000_000, 10) + "M"
	case r != 0 && r%1000 == 0:
		return strconv.FormatInt(int64(r)/1000, 10) + "k"
	}
	return strconv.FormatInt(int64(r), 10)
}

// Set implements flag.Value.
func (r *Bitrate) Set(s string) error {
	s = strings.TrimSuffix(strings.TrimSpace(s), "bps")
	k := 1.0
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		k, s = 1e3, s[:len(s)-1]
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		k, s = 1e6, s[:len(s)-1]
	case strings.HasSuffix(s, "G"), strings.HasSuffix(s, "g"):
		k, s = 1e9, s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return fmt.Errorf("bad bitrate %q", s)
	}
	*r = Bitrate(f * k)
	return nil
}

// MarshalJSON writes the rate as a string.
func (r Bitrate) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }

// UnmarshalJSON accepts "2M" or a number of bits per second.
func (r *Bitrate) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return r.Set(s)
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*r = Bitrate(f)
	return nil
}

// WithDefaults fills in zero fields and checks the result.
func (sc Scenario) WithDefaults() (Scenario, error) {
	setD := func(d *Duration, v time.Duration) {
		if *d <= 0 {
			*d = Duration(v)
		}
	}
	setF := func(f *float64, v float64) {
		if *f <= 0 {
			*f = v
		}
	}
	setI := func(i *int, v int) {
		if *i <= 0 {
			*i = v
		}
	}
	setD(&sc.Duration, time.Minute)
	setD(&sc.ChunkInterval, 125*time.Millisecond)
	if sc.Ramp <= 0 {
		sc.Ramp = Duration(min(time.Minute, sc.Duration.D()/5))
	}
	if sc.Rate <= 0 {
		sc.Rate = 2_000_000
	}
	if len(sc.UploadMix) == 0 {
		sc.UploadMix = DefaultMix()
	}
	setF(&sc.DownloadMult, 10)
	setF(&sc.OriginCopies, 4)
	setD(&sc.LatencyMin, 10*time.Millisecond)
	setD(&sc.LatencyMax, 150*time.Millisecond)
	setD(&sc.ServerLatency, 10*time.Millisecond)
	setF(&sc.ConnectRTTs, 3)
	setD(&sc.NATFailAfter, 10*time.Second)
	setD(&sc.KeyframeInterval, time.Second)
	if sc.NAT < 0 {
		sc.NAT = 0
	}
	if sc.LossMode == "" {
		sc.LossMode = "delay"
	}
	setI(&sc.StartupChunks, 3)
	setD(&sc.TickInterval, 50*time.Millisecond)
	if sc.MaxBuffered <= 0 {
		sc.MaxBuffered = 4 << 20
	}
	setI(&sc.Neighbours, 8)
	setI(&sc.OriginLinks, 16)
	setD(&sc.FlashWindow, 30*time.Second)

	var errs []error
	if sc.Peers < 0 || sc.Flash < 0 {
		errs = append(errs, errors.New("peers and flash must not be negative"))
	}
	if sc.Churn < 0 || sc.Churn > 10 {
		errs = append(errs, errors.New("churn must be within [0, 10]"))
	}
	if sc.NAT > 1 || sc.Loss < 0 || sc.Loss >= 1 || sc.Isolated < 0 || sc.Isolated > 1 {
		errs = append(errs, errors.New("nat, isolated and loss are probabilities"))
	}
	if sc.LossMode != "delay" && sc.LossMode != "drop" {
		errs = append(errs, fmt.Errorf("lossMode %q: want delay or drop", sc.LossMode))
	}
	if sc.LatencyMax < sc.LatencyMin {
		errs = append(errs, errors.New("latencyMax below latencyMin"))
	}
	if sc.TickInterval.D() < time.Millisecond || sc.TickInterval.D()%time.Millisecond != 0 {
		errs = append(errs, errors.New("tickInterval must be a whole number of milliseconds"))
	}
	var share float64
	for _, c := range sc.UploadMix {
		share += c.Share
	}
	if math.Abs(share-1) > 1e-6 {
		errs = append(errs, fmt.Errorf("upload mix shares add up to %g, want 1", share))
	}
	if b := sc.chunkBytes(); b > 262_080 {
		errs = append(errs, fmt.Errorf("a chunk of %d bytes exceeds the wire payload limit", b))
	}
	return sc, errors.Join(errs...)
}

func (sc *Scenario) chunkBytes() int {
	return int(float64(sc.Rate) * sc.ChunkInterval.D().Seconds() / 8)
}

// Preset returns a named scenario: steady, tight, flash, huge or isolated
// (steady with 90% of the viewers reaching nobody over WebRTC).
func Preset(name string) (Scenario, error) {
	steady := Scenario{
		Name: "steady", Seed: 1, Peers: 10_000, Duration: Duration(10 * time.Minute),
		Ramp: Duration(time.Minute), Rate: 2_000_000, Churn: 0.2, NAT: 0.1,
	}
	switch name {
	case "steady":
		return steady, nil
	case "tight":
		sc := steady
		sc.Name, sc.UploadMix = "tight", TightMix()
		return sc, nil
	case "flash":
		return Scenario{
			Name: "flash", Seed: 1, Peers: 500, Ramp: Duration(30 * time.Second),
			Duration: Duration(4 * time.Minute), Rate: 2_000_000, NAT: 0.1,
			Flash: 5000, FlashAt: Duration(time.Minute), FlashWindow: Duration(30 * time.Second),
		}, nil
	case "huge":
		sc := steady
		sc.Name, sc.Peers = "huge", 100_000
		sc.Duration, sc.Ramp = Duration(3*time.Minute), Duration(time.Minute)
		return sc, nil
	case "isolated":
		sc := steady
		sc.Name, sc.Isolated = "isolated", 0.9
		return sc, nil
	}
	return Scenario{}, fmt.Errorf("unknown scenario %q: want steady, tight, flash, huge or isolated", name)
}
