package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// loopback is the lo interface's transmit counters in this process's
// network namespace (/proc/net/dev is per namespace; /sys/class/net is
// not, after `unshare -n`, so it is not used).
type loopback struct {
	txBytes, txPackets int64
	// isolated: lo is the namespace's only interface, so everything it
	// carries is this run's (inside tools/scripts/netns.sh).
	isolated bool
}

func readLoopback() (loopback, error) {
	f, err := os.Open("/proc/net/dev")
	if err != nil {
		return loopback{}, fmt.Errorf("loopback counters: %w", err)
	}
	defer f.Close()
	var lo loopback
	found, ifaces := false, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue // the two header lines
		}
		ifaces++
		if strings.TrimSpace(name) != "lo" {
			continue
		}
		// receive: bytes packets errs drop fifo frame compressed multicast; then transmit
		fields := strings.Fields(rest)
		if len(fields) < 10 {
			return loopback{}, fmt.Errorf("loopback counters: short line %q", sc.Text())
		}
		if lo.txBytes, err = strconv.ParseInt(fields[8], 10, 64); err != nil {
			return loopback{}, fmt.Errorf("loopback counters: %w", err)
		}
		if lo.txPackets, err = strconv.ParseInt(fields[9], 10, 64); err != nil {
			return loopback{}, fmt.Errorf("loopback counters: %w", err)
		}
		found = true
	}
	if err := sc.Err(); err != nil {
		return loopback{}, fmt.Errorf("loopback counters: %w", err)
	}
	if !found {
		return loopback{}, fmt.Errorf("loopback counters: no lo in /proc/net/dev")
	}
	lo.isolated = ifaces == 1
	return lo, nil
}

// udpCounters is the namespace's UDP counters (/proc/net/snmp): datagrams
// dropped because a socket's receive buffer was full show up as
// RcvbufErrors, and SCTP over the data channel then has to retransmit.
type udpCounters struct {
	InDatagrams  int64 `json:"inDatagrams"`
	InErrors     int64 `json:"inErrors"`
	RcvbufErrors int64 `json:"rcvbufErrors"`
	SndbufErrors int64 `json:"sndbufErrors"`
}

func readUDP() (udpCounters, error) {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return udpCounters{}, fmt.Errorf("udp counters: %w", err)
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "Udp: ")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if names == nil {
			names = f
			continue
		}
		var u udpCounters
		for i, name := range names {
			if i >= len(f) {
				break
			}
			v, _ := strconv.ParseInt(f[i], 10, 64)
			switch name {
			case "InDatagrams":
				u.InDatagrams = v
			case "InErrors":
				u.InErrors = v
			case "RcvbufErrors":
				u.RcvbufErrors = v
			case "SndbufErrors":
				u.SndbufErrors = v
			}
		}
		return u, nil
	}
	return udpCounters{}, fmt.Errorf("udp counters: no Udp lines in /proc/net/snmp")
}

func (u udpCounters) sub(v udpCounters) udpCounters {
	return udpCounters{InDatagrams: u.InDatagrams - v.InDatagrams, InErrors: u.InErrors - v.InErrors,
		RcvbufErrors: u.RcvbufErrors - v.RcvbufErrors, SndbufErrors: u.SndbufErrors - v.SndbufErrors}
}
