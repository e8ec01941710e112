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

// Command wiretruth gives the true wire RTT of each echo probe in a packet
// capture. It reads TCP payloads as tshark prints them, reassembles each
// connection's two byte streams into frames, 24-byte frames or the
// extended frames a HELLO negotiated (several frames per segment, or one
// frame across segments, are both fine; the HELLO and its answer are not
// probes) and matches every
// request frame to the reply frame with the same sequence number on the same
// connection. A frame's time is that of the segment carrying its last byte.
//
// Input lines are tab-separated, in this field order:
//
//	tshark -r CAPTURE -Y 'tcp.len>0' -T fields -e frame.time_epoch \
//	    -e tcp.stream -e tcp.srcport -e tcp.dstport -e tcp.seq -e tcp.len -e tcp.payload
//
// With -r, wiretruth runs that tshark command itself; otherwise it reads
// stdin. It prints one key=value summary line; -frames writes one CSV row
// per matched probe. Besides the wire RTT, the line gives send_mean_us and
// send_p50_us: how long each matched request took from the send time its
// sender wrote into the frame (bytes 16-23) to its capture on the wire. A
// sender that reads its clock just before the write, and takes that as the
// send time, can report no less than the wire RTT plus this.
package main

import (
	"bufio"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// tsharkFields are the fields wiretruth expects, in order.
var tsharkFields = []string{
	"frame.time_epoch", "tcp.stream", "tcp.srcport", "tcp.dstport", "tcp.seq", "tcp.len", "tcp.payload",
}

type options struct {
	pcap       string
	serverPort int
	clientPort int
	seqMin     uint64
	seqMax     uint64
	framesCSV  string
	departures string
}

func main() {
	var o options
	flag.StringVar(&o.pcap, "r", "", "capture file to run tshark on; empty reads tshark's field output from stdin")
	flag.IntVar(&o.serverPort, "server-port", 0, "echo server port: frames sent to it are requests (required)")
	flag.IntVar(&o.clientPort, "client-port", 0, "only the connection from this client port (0: all connections)")
	flag.Uint64Var(&o.seqMin, "seq-min", 0, "only probes with sequence number >= this")
	flag.Uint64Var(&o.seqMax, "seq-max", 0, "only probes with sequence number <= this (0: no bound)")
	flag.StringVar(&o.framesCSV, "frames", "", "write matched probes as CSV to this file")
	flag.StringVar(&o.departures, "departures", "", "txcap's capture of the requests as they left (bench/txcap): time each request from its departure too")
	flag.Parse()
	if o.serverPort == 0 {
		fmt.Fprintln(os.Stderr, "wiretruth: -server-port is required")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "wiretruth:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	in := io.Reader(os.Stdin)
	var cmd *exec.Cmd
	if o.pcap != "" {
		args := []string{"-r", o.pcap, "-Y", "tcp.len>0", "-T", "fields", "-E", "separator=/t"}
		for _, f := range tsharkFields {
			args = append(args, "-e", f)
		}
		cmd = exec.Command("tshark", args...)
		cmd.Stderr = io.Discard // "Running as user root" and friends
		out, err := cmd.StdoutPipe()
		if err != nil {
			return fmt.Errorf("tshark: %w", err)
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("tshark: %w", err)
		}
		in = out
	}
	m := newMatcher(o)
	if err := m.read(in); err != nil {
		return err
	}
	if cmd != nil {
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("tshark: %w", err)
		}
	}
	res := m.results()
	if o.departures != "" {
		if err := res.addDepartures(o); err != nil {
			return err
		}
	}
	if o.framesCSV != "" {
		if err := writeCSV(o.framesCSV, res.probes); err != nil {
			return err
		}
	}
	fmt.Println(res.summary())
	return nil
}

// segment is one payload-carrying TCP segment.
type segment struct {
	ns               int64
	stream           int
	srcPort, dstPort int
	seq              uint64
	payload          []byte
}

// parseLine parses one tab-separated tshark line.
func parseLine(line string) (segment, error) {
	f := strings.Split(line, "\t")
	if len(f) != len(tsharkFields) {
		return segment{}, fmt.Errorf("want %d fields, got %d", len(tsharkFields), len(f))
	}
	var s segment
	var err error
	if s.ns, err = parseEpoch(f[0]); err != nil {
		return s, err
	}
	ints := []*int{&s.stream, &s.srcPort, &s.dstPort}
	for i, p := range ints {
		if *p, err = strconv.Atoi(f[1+i]); err != nil {
			return s, fmt.Errorf("%s: %w", tsharkFields[1+i], err)
		}
	}
	if s.seq, err = strconv.ParseUint(f[4], 10, 64); err != nil {
		return s, fmt.Errorf("tcp.seq: %w", err)
	}
	if s.payload, err = hex.DecodeString(strings.ReplaceAll(f[6], ":", "")); err != nil {
		return s, fmt.Errorf("tcp.payload: %w", err)
	}
	if n, err := strconv.Atoi(f[5]); err != nil || n != len(s.payload) {
		return s, fmt.Errorf("tcp.len %q does not match a %d-byte payload (capture snaplen too short?)", f[5], len(s.payload))
	}
	return s, nil
}

// parseEpoch parses "1700000000.123456789" into Unix nanoseconds without
// going through float64, which would round to about 200 ns.
func parseEpoch(s string) (int64, error) {
	sec, frac, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("frame.time_epoch %q: %w", s, err)
	}
	if len(frac) > 9 {
		frac = frac[:9]
	}
	frac += strings.Repeat("0", 9-len(frac))
	ns, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("frame.time_epoch %q: %w", s, err)
	}
	return secs*1e9 + ns, nil
}

func (m *matcher) read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		if sc.Text() == "" {
			continue
		}
		s, err := parseLine(sc.Text())
		if err != nil {
			return fmt.Errorf("line %d: %w", lineNo, err)
		}
		m.add(s)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if lineNo == 0 {
		return errors.New("no TCP payload in the input")
	}
	return nil
}

func writeCSV(path string, probes []probe) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("frames: %w", err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "stream,client_port,seq,request_unix_ns,reply_unix_ns,rtt_ns,send_stamp_unix_ns,send_to_wire_ns,request_departure_unix_ns")
	for _, p := range probes {
		fmt.Fprintf(w, "%d,%d,%d,%d,%d,%d,%d,%d,%d\n", p.stream, p.clientPort, p.seq, p.reqNs, p.repNs, p.repNs-p.reqNs, p.stampNs, p.reqNs-p.stampNs, p.depNs)
	}
	if err := w.Flush(); err != nil {
		_ = f.Close()
		return fmt.Errorf("frames: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("frames: %w", err)
	}
	return nil
}
