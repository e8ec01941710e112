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

//go:build linux

// Command txcap captures the TCP segments sent to and from one port on the
// loopback device at the moment they leave for it: the outgoing copies that libpcap
// (dumpcap, tshark, tcpdump) drops on lo, where it keeps only the incoming
// copy, taken when the receiving side's softirq picks the packet up from
// the loopback queue. A request's capture by dumpcap is therefore its
// arrival at the echo server's TCP, not its departure from the prober, and
// a reply's is its arrival at the prober's TCP; txcap gives both
// departures, which is what a capture on each host's own network interface
// would show. See bench/README.md, "Wire truth".
//
//	txcap -i lo -port 24001 -o departures.tsv
//
// It writes one line per segment with payload, in the field order of
// wiretruth's tshark input: time (Unix seconds, ns), a connection id (the
// client port), source port, destination port, TCP sequence number
// (absolute), payload length, payload in hex. The time is the kernel's
// clock when the tap copied it into the capture ring. It stops on SIGINT or
// SIGTERM and prints "received=N dropped=D" (the kernel's counts) to
// stderr; "listening" on stderr says it is ready.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	ifName := flag.String("i", "lo", "interface")
	port := flag.Int("port", 0, "TCP destination port of the segments to capture (required)")
	out := flag.String("o", "", "output file (required)")
	flag.Parse()
	if *port <= 0 || *port > 65535 || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: txcap -i IFACE -port PORT -o FILE")
		os.Exit(2)
	}
	if err := run(*ifName, *port, *out); err != nil {
		fmt.Fprintln(os.Stderr, "txcap:", err)
		os.Exit(1)
	}
}

// filter is a classic BPF program that keeps outgoing IPv4 TCP segments
// from or to port, unfragmented, on an Ethernet-framed device (lo is one),
// whole: the requests as they leave the prober and the replies as they
// leave the echo server.
func filter(port int) []unix.SockFilter {
	const (
		ldB    = unix.BPF_LD | unix.BPF_B | unix.BPF_ABS
		ldH    = unix.BPF_LD | unix.BPF_H | unix.BPF_ABS
		ldHInd = unix.BPF_LD | unix.BPF_H | unix.BPF_IND
		ldxMSH = unix.BPF_LDX | unix.BPF_B | unix.BPF_MSH
		jeq    = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jset   = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
		ret    = unix.BPF_RET | unix.BPF_K
		// SKF_AD_OFF + SKF_AD_PKTTYPE: the packet's pkt_type.
		adPktType = 0xfffff000 + 4
	)
	return []unix.SockFilter{
		{Code: ldB, K: adPktType},                           // 0
		{Code: jeq, K: unix.PACKET_OUTGOING, Jt: 0, Jf: 12}, // 1
		{Code: ldH, K: 12},                                  // 2: ethertype
		{Code: jeq, K: unix.ETH_P_IP, Jt: 0, Jf: 10},        // 3
		{Code: ldB, K: 23},                                  // 4: IP protocol
		{Code: jeq, K: unix.IPPROTO_TCP, Jt: 0, Jf: 8},      // 5
		{Code: ldH, K: 20},                                  // 6: flags, fragment offset
		{Code: jset, K: 0x1fff, Jt: 6, Jf: 0},               // 7
		{Code: ldxMSH, K: 14},                               // 8: X = IP header length
		{Code: ldHInd, K: 16},                               // 9: TCP destination port
		{Code: jeq, K: uint32(port), Jt: 2, Jf: 0},          // 10
		{Code: ldHInd, K: 14},                               // 11: TCP source port
		{Code: jeq, K: uint32(port), Jt: 0, Jf: 1},          // 12
		{Code: ret, K: 0xffff},                              // 13
		{Code: ret, K: 0},                                   // 14
	}
}

// Ring geometry: 16 blocks of 1 MiB, retired to user space after 10 ms
// at the latest.
const (
	blockSize = 1 << 20
	blockNr   = 16
	frameSize = 1 << 11
	retireMs  = 10
)

func run(ifName string, port int, outPath string) error {
	ifc, err := net.InterfaceByName(ifName)
	if err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		return fmt.Errorf("socket: %w (needs CAP_NET_RAW)", err)
	}
	defer unix.Close(fd)
	prog := filter(port)
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		return fmt.Errorf("attach filter: %w", err)
	}
	// A TPACKET_V3 ring, as libpcap uses: the kernel stamps each packet
	// with the clock when its tap copies it into the ring. (A plain
	// recvmsg with SO_TIMESTAMPNS would give the packet's skb time, which
	// for an outgoing TCP segment is TCP's own departure time, taken
	// before the IP layer, not the tap's.)
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fmt.Errorf("PACKET_VERSION: %w", err)
	}
	req := unix.TpacketReq3{
		Block_size: blockSize, Block_nr: blockNr,
		Frame_size: frameSize, Frame_nr: blockSize / frameSize * blockNr,
		Retire_blk_tov: retireMs,
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return fmt.Errorf("PACKET_RX_RING: %w", err)
	}
	ring, err := unix.Mmap(fd, 0, blockSize*blockNr, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mmap ring: %w", err)
	}
	defer unix.Munmap(ring)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifc.Index}); err != nil {
		return fmt.Errorf("bind %s: %w", ifName, err)
	}

	f, err := os.Create(outPath)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var stop atomic.Bool
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		stop.Store(true)
	}()
	fmt.Fprintln(os.Stderr, "listening on", ifName, "for TCP to and from port", port)

	var skbStamps, clockStamps int
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN | unix.POLLERR}}
	// After a stop, one more retire period drains the last block.
	var deadline time.Time
	for b := 0; ; {
		if stop.Load() && deadline.IsZero() {
			deadline = time.Now().Add(3 * retireMs * time.Millisecond)
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			break
		}
		blk := ring[b*blockSize : (b+1)*blockSize]
		status := (*uint32)(unsafe.Pointer(&blk[8]))
		if atomic.LoadUint32(status)&unix.TP_STATUS_USER == 0 {
			if _, err := unix.Poll(pfd, 50); err != nil && err != unix.EINTR {
				return fmt.Errorf("poll: %w", err)
			}
			continue
		}
		num := binary.NativeEndian.Uint32(blk[12:16])
		off := binary.NativeEndian.Uint32(blk[16:20])
		for range num {
			h := blk[off:]
			next := binary.NativeEndian.Uint32(h[0:4])
			sec, nsec := binary.NativeEndian.Uint32(h[4:8]), binary.NativeEndian.Uint32(h[8:12])
			snap := binary.NativeEndian.Uint32(h[12:16])
			st := binary.NativeEndian.Uint32(h[20:24])
			mac := binary.NativeEndian.Uint16(h[24:26])
			if st&unix.TP_STATUS_TS_SOFTWARE != 0 {
				skbStamps++
			} else {
				clockStamps++
			}
			writeSegment(w, port, int64(sec)*1e9+int64(nsec), h[mac:uint32(mac)+snap])
			off += next
		}
		atomic.StoreUint32(status, unix.TP_STATUS_KERNEL)
		b = (b + 1) % blockNr
	}
	st, err := unix.GetsockoptTpacketStatsV3(fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err == nil {
		fmt.Fprintf(os.Stderr, "received=%d dropped=%d\n", st.Packets, st.Drops)
	}
	fmt.Fprintf(os.Stderr, "stamps: tap clock %d, packet's own %d\n", clockStamps, skbStamps)
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// writeSegment writes the line of an Ethernet frame holding an IPv4 TCP
// segment, if it carries payload.
func writeSegment(w *bufio.Writer, port int, ns int64, b []byte) {
	const eth = 14
	if len(b) < eth+20 {
		return
	}
	ip := b[eth:]
	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:4]))
	if ihl < 20 || total > len(ip) || total < ihl+20 {
		return
	}
	tcp := ip[ihl:total]
	off := int(tcp[12]>>4) * 4
	if off < 20 || off > len(tcp) || off == len(tcp) {
		return
	}
	src, dst := binary.BigEndian.Uint16(tcp[0:2]), binary.BigEndian.Uint16(tcp[2:4])
	seq := binary.BigEndian.Uint32(tcp[4:8])
	payload := tcp[off:]
	client := src
	if int(src) == port {
		client = dst
	}
	fmt.Fprintf(w, "%d.%09d\t%d\t%d\t%d\t%d\t%d\t%s\n", ns/1e9, ns%1e9, client, src, dst, seq, len(payload), hex.EncodeToString(payload))
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
