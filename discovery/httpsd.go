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

package discovery

// A bound on what an http_sd_configs source reads. Prometheus' HTTP
// discoverer reads the whole answer into memory (io.ReadAll) before it
// parses it, stopped only by its timeout, the refresh interval: an
// endpoint that sends without end (a proxy's error page looping, a
// misrouted stream) would take the exporter's memory. Prometheus' code
// takes the HTTP client's options, so the bound is set there: each
// connection carries one request (keep-alives off; one a refresh interval
// costs nothing) and reads at most maxHTTPSDResponse bytes, after which a
// read fails, and with it the refresh: the source's last good targets
// stand in, as for any failed refresh.

import (
	"context"
	"fmt"
	"net"

	promconfig "github.com/prometheus/common/config"
)

// maxHTTPSDResponse is the most an http_sd_configs source reads on one
// connection, the answer of one refresh (headers, body, TLS records):
// 32 MiB (as for the config file), some 200 000 targets with a few labels
// each; reading it takes about three times that at its peak (io.ReadAll
// grows its buffer by copying). Prometheus' client asks for no
// compression, so the body is what crosses the connection.
const maxHTTPSDResponse = 32 << 20

// httpSDOptions are the options of an http_sd_configs source's client.
func httpSDOptions() []promconfig.HTTPClientOption {
	dialer := &net.Dialer{}
	return []promconfig.HTTPClientOption{
		promconfig.WithKeepAlivesDisabled(),
		promconfig.WithDialContextFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &boundedConn{Conn: c, left: maxHTTPSDResponse}, nil
		}),
	}
}

// errTooLarge is what a read beyond maxHTTPSDResponse returns.
var errTooLarge = fmt.Errorf("answer larger than %d MiB, not read further", maxHTTPSDResponse>>20)

// boundedConn is a connection that reads at most left more bytes. The
// HTTP client reads a connection from one goroutine at a time.
type boundedConn struct {
	net.Conn
	left int64
}

// Read reads into p, at most what is left; once nothing is, it fails.
func (c *boundedConn) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= int64(n)
	return n, err
}
