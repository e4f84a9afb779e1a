package whip

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"github.com/shoal-live/shoal/signal/cmaf"
)

// H.264 NAL unit types that start an access unit (ITU-T H.264 7.4.1.2.3).
const (
	naluSEI = 6
	naluSPS = 7
	naluPPS = 8
	naluAUD = 9
)

// auReader reads access units from an Annex-B H.264 file.
type auReader struct {
	f       *os.File
	r       *h264reader.H264Reader
	pending *h264reader.NAL // the first NAL unit of the next access unit
}

func openH264(path string) (*auReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("whip: open video: %w", err)
	}
	r, err := h264reader.NewReaderWithOptions(bufio.NewReader(f), h264reader.WithIncludeSEI(true))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("whip: read %s: %w", path, err)
	}
	return &auReader{f: f, r: r}, nil
}

func (a *auReader) Close() error { return a.f.Close() }

// next returns the next access unit as Annex-B (4-byte start codes), as
// pion's H.264 payloader takes it, and whether it holds an IDR; io.EOF at
// the end.
func (a *auReader) next() (au []byte, idr bool, err error) {
	vcl := false
	for {
		nal := a.pending
		a.pending = nil
		if nal == nil {
			if nal, err = a.r.NextNAL(); err != nil {
				if errors.Is(err, io.EOF) && len(au) > 0 {
					return au, idr, nil
				}
				return nil, false, err
			}
		}
		if len(nal.Data) == 0 {
			continue
		}
		t := nal.Data[0] & 0x1f
		isVCL := t >= 1 && t <= 5
		// An access unit ends before a delimiter, parameter set, SEI
		// or prefix, or before a slice whose first_mb_in_slice is 0,
		// once it has a slice.
		if vcl && (!isVCL && (t >= naluSEI && t <= naluAUD || t >= 14 && t <= 18) ||
			isVCL && len(nal.Data) > 1 && nal.Data[1]&0x80 != 0) {
			a.pending = nal
			return au, idr, nil
		}
		au = append(au, 0, 0, 0, 1)
		au = append(au, nal.Data...)
		vcl = vcl || isVCL
		idr = idr || t == 5
	}
}

// profileLevelID returns the SDP profile-level-id of the file's first SPS.
func profileLevelID(path string) (string, error) {
	a, err := openH264(path)
	if err != nil {
		return "", err
	}
	defer a.Close()
	for {
		nal, err := a.r.NextNAL()
		if err != nil {
			return "", fmt.Errorf("whip: no SPS in %s: %w", path, err)
		}
		if len(nal.Data) >= 4 && nal.Data[0]&0x1f == naluSPS {
			return fmt.Sprintf("%02x%02x%02x", nal.Data[1], nal.Data[2], nal.Data[3]), nil
		}
	}
}

// oggOpus reads Opus packets from an Ogg file with one packet per page, as
// ffmpeg writes with -page_duration 20000.
type oggOpus struct {
	f       *os.File
	r       *oggreader.OggReader
	granule uint64 // end of the last packet, in 48 kHz samples
}

func openOgg(path string) (*oggOpus, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("whip: open audio: %w", err)
	}
	r, head, err := oggreader.NewWith(bufio.NewReader(f))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("whip: read %s: %w", path, err)
	}
	if head.Channels < 1 || head.Channels > 2 {
		f.Close()
		return nil, fmt.Errorf("whip: %s has %d channels, WebRTC sends 1 or 2", path, head.Channels)
	}
	return &oggOpus{f: f, r: r}, nil
}

func (o *oggOpus) Close() error { return o.f.Close() }

// next returns the next Opus packet and its duration; io.EOF at the end.
func (o *oggOpus) next() ([]byte, time.Duration, error) {
	for {
		payload, page, err := o.r.ParseNextPage()
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF // a truncated last page
		}
		if err != nil {
			return nil, 0, err
		}
		if bytes.HasPrefix(payload, []byte("OpusTags")) || len(payload) == 0 {
			continue
		}
		d, err := cmaf.OpusPacketDuration(payload)
		if err != nil {
			return nil, 0, fmt.Errorf("whip: Ogg page %d: %w", o.granule, err)
		}
		end := o.granule + uint64(d*48000/time.Second)
		// The last page may end earlier (trimmed), never later.
		if page.GranulePosition > end {
			return nil, 0, fmt.Errorf("whip: an Ogg page holds several Opus packets (granule %d, want at most %d): encode with -page_duration 20000",
				page.GranulePosition, end)
		}
		o.granule = end
		return payload, d, nil
	}
}
