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

package echo

// The attacks of TestHostileClients that speak the extended protocol: a
// client that negotiates and then sends the longest frames as fast as it
// can, reading or not, and clients that lie about a frame's length.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hostileExtCases are the cases of TestHostileClients that speak the
// extended protocol.
func hostileExtCases() []hostileCase {
	return []hostileCase{
		{
			name:   "extended frames of 9000 bytes at full speed",
			opts:   Options{MaxConnections: hostileMaxConns},
			attack: hostileExtFlood(4, 2*time.Second),
			reason: reasonBadMagic, want: 0,
		},
		{
			name:   "extended clients that never read",
			opts:   Options{MaxConnections: hostileMaxConns, WriteTimeout: 500 * time.Millisecond, IdleTimeout: time.Minute},
			attack: hostileExtNonReaders(5),
			reason: reasonWriteTimeout, want: 5,
		},
		{
			name:   "extended frames lying about their length",
			opts:   Options{MaxConnections: hostileMaxConns},
			attack: hostileLengthLiars(400),
			reason: reasonBadMagic, want: 400,
		},
		{
			// 4000 bytes of a 9000-byte frame, and then nothing: the
			// server holds the partial frame until the idle timeout.
			name:   "extended frames cut short",
			opts:   Options{MaxConnections: hostileMaxConns, IdleTimeout: 500 * time.Millisecond},
			attack: hostileShortFrames(hostileMaxConns - 1),
			reason: reasonIdle, want: hostileMaxConns - 1,
		},
	}
}

// hostileNegotiate connects to address, as hostileDial does, and
// negotiates extended frames.
func hostileNegotiate(address string, smallBuffer bool) (net.Conn, error) {
	c, err := hostileDial(address, "", smallBuffer)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	offer := make([]byte, 24)
	if _, err := c.Write(helloFrame()); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := io.ReadFull(c, offer); err != nil || string(offer[16:20]) != "TPX1" {
		c.Close()
		return nil, fmt.Errorf("no offer: % x, %v", offer, err)
	}
	return c, nil
}

// hostileExtFlood runs n clients that negotiate and then, for d, write
// 9000-byte requests as fast as the server takes them, while reading every
// reply and checking it. Each client then shuts its side down, and must
// read one reply for every request it sent before the server closes the
// connection: the reader ends at that EOF, not when it counts as many
// replies as the writer sent, since it may count them all before the
// writer is done writing, and then wait for a reply never asked for.
func hostileExtFlood(n int, d time.Duration) func(t *testing.T, address string) {
	return func(t *testing.T, address string) {
		reqs := make([][]byte, 4)
		for i := range reqs {
			reqs[i] = extRequest(9000, uint32(i), uint64(i))
		}
		burst := cat(reqs...)
		var replies atomic.Int64
		var wg sync.WaitGroup
		for range n {
			c, err := hostileNegotiate(address, false)
			if err != nil {
				t.Error(err)
				continue
			}
			var sent atomic.Int64       // requests written whole
			done := make(chan struct{}) // sent is final
			wg.Go(func() {
				defer func() {
					close(done)
					_ = c.(*net.TCPConn).CloseWrite()
				}()
				var written int
				for end := time.Now().Add(d); time.Now().Before(end); {
					_ = c.SetWriteDeadline(time.Now().Add(testTimeout))
					k, err := c.Write(burst)
					written += k
					sent.Store(int64(written / len(reqs[0])))
					if err != nil {
						t.Errorf("flood write: %v", err)
						return
					}
				}
			})
			wg.Go(func() {
				defer c.Close()
				rep := make([]byte, 9000)
				for i := 0; ; i++ {
					_ = c.SetReadDeadline(time.Now().Add(testTimeout))
					_, err := io.ReadFull(c, rep)
					if errors.Is(err, io.EOF) {
						<-done
						if int64(i) != sent.Load() {
							t.Errorf("flood: the server closed the connection after %d replies to %d requests", i, sent.Load())
						}
						return
					}
					if err != nil {
						t.Errorf("flood read after %d replies to %d requests so far: %v", i, sent.Load(), err)
						return
					}
					req := reqs[i%len(reqs)]
					if rep[6] != 2 || !bytes.Equal(rep[24:], req[24:]) || !bytes.Equal(rep[8:12], req[8:12]) {
						t.Errorf("flood reply %d is not its request's", i)
						return
					}
					replies.Add(1)
				}
			})
		}
		wg.Wait()
		t.Logf("extended flood: %d clients, %d replies of 9000 bytes in %v", n, replies.Load(), d)
	}
}

// hostileExtNonReaders opens n connections with a small receive buffer
// that negotiate, then write 9000-byte requests as fast as they can and
// never read, until the server closes them (at most 64 MiB or 10 s each).
func hostileExtNonReaders(n int) func(t *testing.T, address string) {
	return nonReaders(n, "an extended client", bytes.Repeat(extRequest(9000, 1, 1), 8), func(address string) (net.Conn, error) {
		return hostileNegotiate(address, true)
	})
}

// hostileLengthLiars opens n connections that negotiate, send a good
// 100-byte request and then a header whose length is out of bounds or not
// the connection's, and checks that the server closes them at once.
func hostileLengthLiars(n int) func(t *testing.T, address string) {
	good := extRequest(100, 1, 1)
	lies := [][]byte{
		extRequest(200, 2, 2)[:24],        // another length than the first
		extRequest(9001, 2, 2)[:24],       // over the longest
		append(good[:4:4], 0xFF, 0xFF, 1), // 65535
		append(good[:4:4], 23, 0, 1),      // under the header
	}
	return func(t *testing.T, address string) {
		hostileParallel(n, func(i int) {
			c, err := hostileNegotiate(address, false)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			_ = c.SetWriteDeadline(time.Now().Add(testTimeout))
			_, _ = c.Write(cat(good, lies[i%len(lies)]))
			if !hostileClosed(c, testTimeout) {
				t.Errorf("a length lie (% x) left the connection open", lies[i%len(lies)])
			}
		})
	}
}

// hostileShortFrames opens n connections that negotiate, then announce a
// 9000-byte request and send only its first part, and checks how soon the
// server closes them: the promised rest never comes, so they are idle.
func hostileShortFrames(n int) func(t *testing.T, address string) {
	return func(t *testing.T, address string) {
		part := extRequest(9000, 1, 1)[:4000]
		var closed atomic.Int64
		var wg sync.WaitGroup
		for range n {
			c, err := hostileNegotiate(address, false)
			if err != nil {
				t.Error(err)
				continue
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetWriteDeadline(time.Now().Add(testTimeout))
				if _, err := c.Write(part); err != nil {
					t.Error(err)
					return
				}
				if hostileClosed(c, testTimeout) {
					closed.Add(1)
				}
			})
		}
		wg.Wait()
		t.Logf("short frames: %d of %d connections holding 4000 of 9000 bytes closed by the server", closed.Load(), n)
	}
}
