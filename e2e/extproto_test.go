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

package e2e

import (
	"bytes"
	le "encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// recordingRelay forwards each connection to a server and keeps the bytes
// that go each way.
type recordingRelay struct {
	addr string
	mu   sync.Mutex
	up   [][]byte // per connection, client to server
	down [][]byte // server to client
}

// relay starts a recordingRelay to server, closed when the test ends.
func relay(t *testing.T, server string) *recordingRelay {
	t.Helper()
	r := &recordingRelay{}
	r.addr = testenv.Serve(t, func(c net.Conn) {
		s, err := net.Dial("tcp", server)
		if err != nil {
			return
		}
		defer s.Close()
		r.mu.Lock()
		i := len(r.up)
		r.up, r.down = append(r.up, nil), append(r.down, nil)
		r.mu.Unlock()
		done := make(chan struct{})
		go func() {
			r.copy(s, c, func(b []byte) { r.up[i] = append(r.up[i], b...) })
			_ = s.Close()
			close(done)
		}()
		r.copy(c, s, func(b []byte) { r.down[i] = append(r.down[i], b...) })
		_ = c.Close()
		<-done
	})
	return r
}

func (r *recordingRelay) copy(dst io.Writer, src io.Reader, keep func([]byte)) {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			r.mu.Lock()
			keep(buf[:n])
			r.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// first returns what went each way on the first connection.
func (r *recordingRelay) first() (up, down []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.up) == 0 {
		return nil, nil
	}
	return bytes.Clone(r.up[0]), bytes.Clone(r.down[0])
}

// The HELLO and the prefix of the offer, by their bytes (README, "The wire
// format").
var (
	helloFrame  = []byte("TCPPING\x00\xfe\xff\xff\xff\xff\xff\xff\xffTPXHELLO")
	offerPrefix = []byte("TCPPING\x00\xfe\xff\xff\xff\xff\xff\xff\xffTPX1")
)

// TestExtendedProtocolOnTheWire runs the exporter's prober against its own
// echo server through a relay that records the bytes, once per
// echo_protocol: with auto the HELLO, the offer of 9000-byte frames, then
// extended requests and replies of payload_size bytes, and the turnaround
// histogram fills; with v1 only 24-byte frames, from the first, and the
// extended series stay at 0.
func TestExtendedProtocolOnTheWire(t *testing.T) {
	dir := t.TempDir()
	web, echoPort := testenv.Port(t), testenv.Port(t)
	echoAddr := fmt.Sprintf("127.0.0.1:%d", echoPort)
	auto, v1 := relay(t, echoAddr), relay(t, echoAddr)
	cfg := writeFile(t, dir, "tcpping.yml", fmt.Sprintf(`modules:
  big:
    interval: 50ms
    payload_size: 200
  v1:
    interval: 50ms
    echo_protocol: v1
targets:
  - {name: auto, address: %q, module: big}
  - {name: v1, address: %q, module: v1}
`, auto.addr, v1.addr))
	startBinary(t, dir, "--config.file="+cfg,
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(web), "--echo.listen-address="+echoAddr)
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", web)
	waitMetric(t, http.DefaultClient, url, "tcp_echo_received_total", map[string]string{"target": "v1"}, 5)
	mfs := waitMetric(t, http.DefaultClient, url, "tcp_echo_peer_turnaround_seconds", map[string]string{"target": "auto"}, 5)

	t.Run("auto", func(t *testing.T) {
		up, down := auto.first()
		if len(up) < 24+3*200 || !bytes.Equal(up[:24], helloFrame) {
			t.Fatalf("the prober's first frame is not the HELLO: % x", up[:min(len(up), 24)])
		}
		if len(down) < 24+3*200 || !bytes.Equal(down[:20], offerPrefix) ||
			le.LittleEndian.Uint16(down[20:22]) != 9000 {
			t.Fatalf("the echo server's first frame is not an offer of 9000-byte frames: % x", down[:min(len(down), 24)])
		}
		for i, f := range frames(up[24:], 200) {
			checkExtFrame(t, "request", i, f, 1, uint32(i+1))
			if f[7] != 0 || !bytes.Equal(f[12:16], make([]byte, 4)) || !bytes.Equal(f[24:], make([]byte, 176)) {
				t.Errorf("request %d: flags, bytes 12-15 or padding not zero: % x", i+1, f)
			}
		}
		for i, f := range frames(down[24:], 200) {
			checkExtFrame(t, "reply", i, f, 2, uint32(i+1))
			if !bytes.Equal(f[24:], make([]byte, 176)) {
				t.Errorf("reply %d: the request's padding did not come back: % x", i+1, f[24:])
			}
			if le.LittleEndian.Uint32(f[12:16]) == 0 {
				t.Errorf("reply %d: turnaround 0", i+1)
			}
		}
	})
	t.Run("v1", func(t *testing.T) {
		up, down := v1.first()
		if len(up) < 3*24 {
			t.Fatalf("%d bytes sent", len(up))
		}
		for i, f := range frames(up, 24) {
			if !bytes.Equal(f[:8], []byte("TCPPING\x00")) || le.LittleEndian.Uint64(f[8:16]) != uint64(i+1) {
				t.Errorf("frame %d: % x, want the magic and sequence number %d", i+1, f, i+1)
			}
		}
		if !bytes.Equal(down, up[:len(down)]) {
			t.Error("the echo server's replies are not the prober's frames, unchanged")
		}
		for _, name := range []string{"tcp_echo_peer_turnaround_seconds", "tcp_echo_forward_jitter_seconds",
			"tcp_echo_reverse_jitter_seconds", "tcp_echo_forward_delay_seconds", "tcp_echo_reverse_delay_seconds"} {
			if v, ok := testenv.Value(mfs, name, map[string]string{"target": "v1"}); !ok || v != 0 {
				t.Errorf("%s{target=v1} = %v (present %v), want 0", name, v, ok)
			}
		}
		if v, ok := testenv.Value(mfs, "tcp_echo_jitter_seconds", map[string]string{"target": "v1"}); !ok || v <= 0 {
			t.Errorf("tcp_echo_jitter_seconds{target=v1} = %v (present %v), want > 0", v, ok)
		}
	})
}

// frames cuts b into whole frames of n bytes.
func frames(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) >= n {
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// checkExtFrame checks the header of extended frame i of 200 bytes.
func checkExtFrame(t *testing.T, what string, i int, f []byte, kind byte, seq uint32) {
	t.Helper()
	if string(f[:4]) != "TPX1" || le.LittleEndian.Uint16(f[4:6]) != 200 || f[6] != kind ||
		le.LittleEndian.Uint32(f[8:12]) != seq {
		t.Errorf("%s %d: % x, want TPX1, length 200, kind %d, sequence number %d", what, i+1, f[:12], kind, seq)
	}
	if ts := int64(le.LittleEndian.Uint64(f[16:24])); time.Since(time.Unix(0, ts)).Abs() > time.Minute {
		t.Errorf("%s %d: time %d is not a Unix time in ns of this minute", what, i+1, ts)
	}
}
