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
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	slgk "github.com/tjhop/slog-gokit"

	"github.com/tcpping/tcpping_exporter/internal/loglimit"
)

// loggers are the root logger and the filtered base that the
// exporter-toolkit bridge writes to.
type loggers struct {
	root  log.Logger
	base  log.Logger // filtered, without ts and caller: slog supplies both
	level slog.Level
}

// newLogger builds the root logger: logfmt or JSON lines with a UTC
// timestamp and the caller, filtered at lvl.
func newLogger(w io.Writer, format, lvl string) (loggers, error) {
	var l log.Logger
	switch format {
	case "logfmt":
		l = log.NewLogfmtLogger(log.NewSyncWriter(w))
	case "json":
		l = log.NewJSONLogger(log.NewSyncWriter(w))
	default:
		return loggers{}, fmt.Errorf("--log.format: unknown format %q (want logfmt or json)", format)
	}
	var (
		opt  level.Option
		slvl slog.Level
	)
	switch lvl {
	case "debug":
		opt, slvl = level.AllowDebug(), slog.LevelDebug
	case "info":
		opt, slvl = level.AllowInfo(), slog.LevelInfo
	case "warn":
		opt, slvl = level.AllowWarn(), slog.LevelWarn
	case "error":
		opt, slvl = level.AllowError(), slog.LevelError
	default:
		return loggers{}, fmt.Errorf("--log.level: unknown level %q (want debug, info, warn or error)", lvl)
	}
	// The filter goes under the context, so that level.X(logger) and the
	// caller valuer share one context and the caller depth is right.
	filtered := level.NewFilter(l, opt)
	return loggers{
		root:  log.With(filtered, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller),
		base:  filtered,
		level: slvl,
	}, nil
}

// slog bridges the base logger to the *slog.Logger exporter-toolkit wants,
// at the same level, renaming slog's time key to our ts in UTC.
func (l loggers) slog() *slog.Logger {
	next := l.base
	renamed := log.LoggerFunc(func(kv ...any) error {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] == "time" {
				kv[i] = "ts"
				if t, ok := kv[i+1].(time.Time); ok {
					kv[i+1] = t.UTC()
				}
			}
		}
		return next.Log(kv...)
	})
	return slog.New(slgk.NewGoKitHandler(renamed, l.level))
}

// debug reports whether debug messages are logged.
func (l loggers) debug() bool { return l.level <= slog.LevelDebug }

// httpServerErrorLog returns the log net/http writes its server's errors
// to: a handshake that failed (a client speaking plain HTTP to a TLS
// listener, a port scanner), an accept that failed, a handler's panic.
// Each becomes a line of logger's, at Warn at most once per
// loglimit.Interval and at Debug otherwise, as the echo server logs the
// clients it rejects, since a remote client can fail handshakes as fast as
// it likes; a handler's panic, a bug, always goes out at Error. Without it
// net/http writes each one to standard error, in a format of its own.
func httpServerErrorLog(logger log.Logger) *stdlog.Logger {
	return stdlog.New(&httpServerErrors{logger: logger}, "", 0)
}

// httpServerErrors is the writer of httpServerErrorLog: net/http writes
// one line per error, "http: " and what went wrong.
type httpServerErrors struct {
	logger log.Logger
	limit  loglimit.Limiter
}

func (w *httpServerErrors) Write(p []byte) (int, error) {
	msg := strings.TrimPrefix(strings.TrimSuffix(string(p), "\n"), "http: ")
	lvl := level.Debug
	switch {
	case strings.HasPrefix(msg, "panic serving"): // a bug of ours, with its stack
		lvl = level.Error
	case w.limit.Allow(time.Now()):
		lvl = level.Warn
	}
	lvl(w.logger).Log("msg", "http server error", "err", msg)
	return len(p), nil
}
