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

package prober

// Kernel transmit timestamps (tx_timestamps, Linux): the send instant of a
// probe is the kernel's software timestamp of the moment its frame left
// for the device, read from the socket's error queue (txstamp_linux.go),
// not the clock read before the write, so the local send path (12 µs on
// an idle VM) does not count as network time. The clock read stays the
// probe's reference: it sets the deadline and is the send time whenever a
// stamp does not come (refused, lost, or not yet read when the reply is
// accounted).
//
// The kernel keys each stamp by the offset of the last byte of the write
// it stamps, counted from when stamping was turned on (SOF_TIMESTAMPING_
// OPT_ID on TCP): the dial turns it on before the connection's first write,
// the HELLO's 24 bytes (if any) come first, and every probe is one frame
// of the connection's length L, so probe n of the connection (n from 1)
// has key hello + n·L − 1, modulo 2³² (state.txStamp).

// txClock is a flow's side of its connection's transmit timestamps.
type txClock struct {
	// on: the connection's writes are stamped.
	on bool
	// waiting: the last probe's stamp has not been read. Stamps come in
	// the order of the writes, so none is waiting once it is.
	waiting bool
	// written counts the bytes written since stamping was turned on, and
	// last is the key of the last probe's stamp.
	written, last uint32
}

// sent records a probe frame of n bytes written.
func (c *txClock) sent(n int) {
	if !c.on {
		return
	}
	c.written += uint32(n)
	c.last = c.written - 1
	c.waiting = true
}

// drainTx reads the transmit timestamps waiting on the connection's error
// queue and gives each to its probe. A flow calls it right after a write,
// where the stamp of a frame sent on loopback or to a NIC's queue already
// is, so that it does not wake its loop later (a level-triggered epoll
// set reports the queue until it is read); before accounting a reply whose
// stamp it has not read; and when its loop sees EPOLLERR. It reports
// whether it read anything.
func (f *flow) drainTx() bool {
	read := false
	for range maxDrain {
		key, ns, err := f.link.txStamp()
		if err != nil {
			// Empty (errWouldBlock), or an error the next read or
			// write will report.
			return read
		}
		read = true
		if ns == 0 {
			continue // not a transmit timestamp
		}
		f.p.mu.Lock()
		f.p.st.txStamp(key, ns)
		f.p.mu.Unlock()
		if key == f.tx.last {
			f.tx.waiting = false
		}
	}
	return read
}
