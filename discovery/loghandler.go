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

import (
	"context"
	"log/slog"
	"slices"
)

// logRecord is a warning or an error a Prometheus discoverer logged: its
// level, its message and its attributes as text.
type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

// sourceHandler is the slog.Handler of one source's Prometheus discoverer.
// Prometheus' discoverers report a failed refresh only by logging it, at
// error level and again on every refresh (the DNS discoverer logs each
// server's error at warn level first); so this handler hands each warning
// and error record to report, from which the Runner learns what failed (it
// logs a failure itself, once per streak), and passes every record on to
// next at debug level, for whoever wants the details.
type sourceHandler struct {
	next   slog.Handler
	report func(logRecord)
	attrs  []slog.Attr // added with WithAttrs, for report
}

// newSourceHandler returns a handler that reports warning and error
// records to report and passes all records on to next at debug level.
func newSourceHandler(next slog.Handler, report func(logRecord)) *sourceHandler {
	return &sourceHandler{next: next, report: report}
}

// Enabled reports whether a record at level is wanted: warnings and errors
// always are, since they say what failed.
func (h *sourceHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn || h.next.Enabled(ctx, slog.LevelDebug)
}

// Handle reports a warning or error record, then passes the record on at
// debug level.
func (h *sourceHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		rec := logRecord{level: r.Level, msg: r.Message, attrs: make(map[string]string, len(h.attrs)+r.NumAttrs())}
		for _, a := range h.attrs {
			rec.attrs[a.Key] = a.Value.String()
		}
		r.Attrs(func(a slog.Attr) bool {
			rec.attrs[a.Key] = a.Value.String()
			return true
		})
		h.report(rec)
	}
	if !h.next.Enabled(ctx, slog.LevelDebug) {
		return nil
	}
	d := slog.NewRecord(r.Time, slog.LevelDebug, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		d.AddAttrs(a)
		return true
	})
	return h.next.Handle(ctx, d)
}

// WithAttrs returns a handler that adds attrs to every record.
func (h *sourceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &sourceHandler{next: h.next.WithAttrs(attrs), report: h.report, attrs: append(slices.Clip(h.attrs), attrs...)}
}

// WithGroup returns a handler that puts later attributes in group name.
// Reported records keep their attributes' own keys.
func (h *sourceHandler) WithGroup(name string) slog.Handler {
	return &sourceHandler{next: h.next.WithGroup(name), report: h.report, attrs: h.attrs}
}
