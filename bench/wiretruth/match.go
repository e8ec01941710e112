// Copyright 2026 The tcpping_exporter Authors
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
// http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

const (
	frameSize = 24
	magic     = "TCPPING\x00"
	// extMagic starts the extended frames of issue 14 (README, "The wire
	// format"): "TPX1", the frame's length L (uint16 LE, 24 to 9000),
	// kind, flags, the low 32 bits of the sequence number (uint32 LE) at
	// bytes 8-11 and, in a request, the sender's Unix time at 16-23.
	extMagic = "TPX1"
	maxExt   = 9000
	// helloSeq is the sequence number of the HELLO and of its answer:
	// they negotiate the protocol and are not probes.
	helloSeq = 0xFFFFFFFFFFFFFFFE
)

// direction is one byte stream of one connection being cut into frames.
type direction struct {
	next   uint64 // TCP sequence number of the next byte expected; 0 before the first segment
	buf    []byte
	synced bool // buf starts at a frame boundary
}

// frame is one whole frame cut from a stream: its sequence number and the
// Unix time it carries (bytes 16-23): the sender's, or in an extended
// reply the echo server's receive time of the request; kernelRx: that
// receive time is the kernel's (extended reply, flag bit 0).
type frame struct {
	seq      uint64
	stampNs  int64
	kernelRx bool
}

// key identifies a probe: its connection and its sequence number.
type key struct {
	stream int
	seq    uint64
}

// probe is one matched request/reply pair.
type probe struct {
	stream, clientPort int
	seq                uint64
	reqNs, repNs       int64
	// stampNs is the send time the prober wrote into the request: reqNs -
	// stampNs is how long the request took from the prober's clock reading
	// to the wire, which no reply timestamp can take back.
	stampNs int64
	// depNs, if not 0, is when the request left for the device (txcap's
	// capture, -departures), before its loopback transit: reqNs is its
	// arrival at the echo server's side (depart.go).
	depNs int64
	// repDepNs, if not 0, is when the reply left the echo server for the
	// device (txcap); repNs is its arrival at the prober's side.
	repDepNs int64
	// peerRxNs, if not 0, is the echo server's kernel receive timestamp of
	// the request, from its extended reply: on one host, peerRxNs - reqNs
	// is how much later the kernel stamps a received segment than
	// libpcap's capture of it.
	peerRxNs int64
}

// matcher reassembles frames and matches replies to requests.
type matcher struct {
	o          options
	dirs       map[[2]int]*direction // {stream, 0 request | 1 reply}
	clientPort map[int]int
	requests   map[key]request
	probes     []probe

	// Counters for the summary: segments and bytes that were retransmitted
	// (skipped), gaps (bytes missing from the capture), bytes skipped to
	// find a frame start, replies with no request, duplicate requests.
	retransmitted, gaps, resyncBytes, orphanReplies, dupRequests int
}

func newMatcher(o options) *matcher {
	return &matcher{
		o:          o,
		dirs:       make(map[[2]int]*direction),
		clientPort: make(map[int]int),
		requests:   make(map[key]request),
	}
}

// add feeds one segment.
func (m *matcher) add(s segment) {
	var reply int
	switch m.o.serverPort {
	case s.dstPort:
		m.clientPort[s.stream] = s.srcPort
	case s.srcPort:
		reply = 1
		m.clientPort[s.stream] = s.dstPort
	default:
		return // not a connection to the echo server
	}
	if m.o.clientPort != 0 && m.clientPort[s.stream] != m.o.clientPort {
		return
	}
	d := m.dirs[[2]int{s.stream, reply}]
	if d == nil {
		d = &direction{}
		m.dirs[[2]int{s.stream, reply}] = d
	}
	data := s.payload
	switch {
	case d.next == 0:
	case s.seq < d.next: // retransmission: keep only bytes not seen yet
		m.retransmitted++
		skip := d.next - s.seq
		if skip >= uint64(len(data)) {
			return
		}
		data = data[skip:]
	case s.seq > d.next: // the capture lost bytes: find the next frame start
		m.gaps++
		d.buf, d.synced = d.buf[:0], false
	}
	d.next = max(d.next, s.seq) + uint64(len(data))
	d.buf = append(d.buf, data...)
	for _, f := range d.frames(m) {
		if reply == 0 {
			m.request(s, f)
		} else {
			m.reply(s, f)
		}
	}
}

// frames cuts whole frames off the front of d.buf: 24-byte frames and
// extended ones, skipping the HELLO and its answer.
func (d *direction) frames(m *matcher) []frame {
	var out []frame
	for {
		if !d.synced {
			i := frameStart(d.buf)
			if i < 0 {
				keep := min(len(d.buf), len(magic)-1)
				m.resyncBytes += len(d.buf) - keep
				d.buf = append(d.buf[:0], d.buf[len(d.buf)-keep:]...)
				return out
			}
			m.resyncBytes += i
			d.buf = append(d.buf[:0], d.buf[i:]...)
			d.synced = true
		}
		n, f := cut(d.buf)
		switch {
		case n < 0:
			d.synced = false
			continue
		case n == 0:
			return out
		}
		if f.seq != helloSeq {
			out = append(out, f)
		}
		d.buf = append(d.buf[:0], d.buf[n:]...)
	}
}

// frameStart returns the index of the first frame magic in b, or -1.
func frameStart(b []byte) int {
	i, j := bytes.Index(b, []byte(magic)), bytes.Index(b, []byte(extMagic))
	switch {
	case i < 0:
		return j
	case j < 0:
		return i
	}
	return min(i, j)
}

// cut returns the length of the frame at the start of b and the frame: 0
// if b does not hold all of it yet, -1 if b does not start with a frame.
func cut(b []byte) (int, frame) {
	switch {
	case agrees(b, magic):
		if len(b) < frameSize {
			return 0, frame{}
		}
		return frameSize, frame{seq: binary.LittleEndian.Uint64(b[8:16]), stampNs: int64(binary.LittleEndian.Uint64(b[16:24]))}
	case !agrees(b, extMagic):
		return -1, frame{}
	case len(b) < 6:
		return 0, frame{}
	}
	n := int(binary.LittleEndian.Uint16(b[4:6]))
	switch {
	case n < frameSize || n > maxExt:
		return -1, frame{}
	case len(b) < n:
		return 0, frame{}
	}
	return n, frame{uint64(binary.LittleEndian.Uint32(b[8:12])), int64(binary.LittleEndian.Uint64(b[16:24])), b[6] == 2 && b[7]&1 != 0}
}

// agrees reports whether b starts with m, or is the start of m.
func agrees(b []byte, m string) bool {
	n := min(len(b), len(m))
	return string(b[:n]) == m[:n]
}

// request is a request frame seen on the wire, waiting for its reply.
type request struct {
	ns, stampNs int64
}

func (m *matcher) request(s segment, f frame) {
	k := key{s.stream, f.seq}
	if _, dup := m.requests[k]; dup {
		m.dupRequests++
		return
	}
	m.requests[k] = request{s.ns, f.stampNs}
}

func (m *matcher) reply(s segment, f frame) {
	seq := f.seq
	k := key{s.stream, seq}
	req, ok := m.requests[k]
	if !ok {
		m.orphanReplies++
		return
	}
	delete(m.requests, k)
	if seq < m.o.seqMin || (m.o.seqMax != 0 && seq > m.o.seqMax) {
		return
	}
	p := probe{stream: s.stream, clientPort: m.clientPort[s.stream], seq: seq, reqNs: req.ns, repNs: s.ns, stampNs: req.stampNs}
	if f.kernelRx {
		p.peerRxNs = f.stampNs
	}
	m.probes = append(m.probes, p)
}

// results are the matched probes and what could not be matched.
type results struct {
	m          *matcher
	probes     []probe
	unanswered int
	// departures: the probes' depNs were looked up (-departures).
	departures bool
}

func (m *matcher) results() results {
	r := results{m: m, probes: m.probes}
	for k := range m.requests {
		if k.seq >= m.o.seqMin && (m.o.seqMax == 0 || k.seq <= m.o.seqMax) {
			r.unanswered++
		}
	}
	return r
}

// summary is one key=value line; times in microseconds.
func (r results) summary() string {
	rtts := make([]int64, len(r.probes))
	sends := make([]int64, len(r.probes))
	var sum, sendSum int64
	streams := make(map[int]bool)
	minSeq, maxSeq := uint64(0), uint64(0)
	for i, p := range r.probes {
		rtts[i] = p.repNs - p.reqNs
		sum += rtts[i]
		sends[i] = p.reqNs - p.stampNs
		sendSum += sends[i]
		streams[p.stream] = true
		if i == 0 || p.seq < minSeq {
			minSeq = p.seq
		}
		maxSeq = max(maxSeq, p.seq)
	}
	slices.Sort(rtts)
	slices.Sort(sends)
	us := func(ns int64) string { return fmt.Sprintf("%.3f", float64(ns)/1e3) }
	quantile := func(v []int64, f float64) string {
		if len(v) == 0 {
			return "nan"
		}
		return us(v[min(len(v)-1, int(f*float64(len(v))))])
	}
	q := func(f float64) string { return quantile(rtts, f) }
	mean, sendMean := "nan", "nan"
	if len(rtts) > 0 {
		mean = fmt.Sprintf("%.3f", float64(sum)/float64(len(rtts))/1e3)
		sendMean = fmt.Sprintf("%.3f", float64(sendSum)/float64(len(rtts))/1e3)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "frames=%d streams=%d seq_first=%d seq_last=%d mean_us=%s min_us=%s p50_us=%s p99_us=%s max_us=%s",
		len(rtts), len(streams), minSeq, maxSeq, mean, q(0), q(0.5), q(0.99), q(1))
	fmt.Fprintf(&b, " send_mean_us=%s send_p50_us=%s", sendMean, quantile(sends, 0.5))
	var rxLags []int64
	for _, p := range r.probes {
		if p.peerRxNs != 0 {
			rxLags = append(rxLags, p.peerRxNs-p.reqNs)
		}
	}
	fmt.Fprintf(&b, " rx_stamp_frames=%d rx_stamp_lag_mean_us=%s rx_stamp_lag_p50_us=%s", len(rxLags), meanUs(rxLags), p50Us(rxLags))
	fmt.Fprintf(&b, " unanswered=%d orphan_replies=%d dup_requests=%d retransmitted=%d gaps=%d resync_bytes=%d",
		r.unanswered, r.m.orphanReplies, r.m.dupRequests, r.m.retransmitted, r.m.gaps, r.m.resyncBytes)
	if r.departures {
		b.WriteString(r.departureSummary())
	}
	return b.String()
}
