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

package testenv

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// ChromiumFlags returns the flags every test runs Chromium with:
// headless, and off every network but the pages it is sent to.
func ChromiumFlags() []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
	}
}

// Browser is a headless Chromium driven over the DevTools protocol on a
// pipe (--remote-debugging-pipe: commands on its fd 3, answers and events
// on its fd 4, each a JSON object ended by a NUL byte), so a test loads a
// page as a person would and reads what the page did: its DOM, its
// console, its navigation timing, a screenshot.
type Browser struct {
	cmd    *exec.Cmd
	in     *os.File // our end of Chromium's fd 3
	stderr Buffer

	mu      sync.Mutex
	nextID  int
	pending map[int]chan cdpMessage
	pages   map[string]*Page // by session
	err     error            // why the pipe ended
}

// cdpMessage is a DevTools protocol message: an answer (ID) or an event
// (Method), of a session or of the browser.
type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// StartChromium starts headless Chromium (Debian package chromium) with
// ChromiumFlags and a new profile, or calls Unavailable. It is stopped
// when the test ends.
func StartChromium(t testing.TB) *Browser {
	t.Helper()
	bin := LookPath(t, "chromium", "chromium")
	cmdIn, in, err := os.Pipe() // we write commands to in, Chromium reads cmdIn as fd 3
	if err != nil {
		t.Fatal(err)
	}
	out, cmdOut, err := os.Pipe() // Chromium writes cmdOut as fd 4
	if err != nil {
		t.Fatal(err)
	}
	args := append(ChromiumFlags(), "--user-data-dir="+t.TempDir(),
		"--remote-debugging-pipe", "about:blank")
	b := &Browser{cmd: exec.Command(bin, args...), in: in, pending: map[int]chan cdpMessage{}, pages: map[string]*Page{}}
	b.cmd.ExtraFiles = []*os.File{cmdIn, cmdOut}
	b.cmd.Stderr = &b.stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = cmdIn.Close()
	_ = cmdOut.Close()
	done := make(chan struct{})
	go func() { b.read(out); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = b.call(ctx, "", "Browser.close", nil)
		_ = in.Close()
		wait := make(chan struct{})
		go func() { _ = b.cmd.Wait(); close(wait) }()
		select {
		case <-wait:
		case <-ctx.Done():
			_ = b.cmd.Process.Kill()
			<-wait
		}
		<-done
		_ = out.Close()
	})
	return b
}

// read dispatches Chromium's messages until the pipe ends.
func (b *Browser) read(out *os.File) {
	r := bufio.NewReaderSize(out, 1<<20)
	for {
		raw, err := r.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.err = fmt.Errorf("chromium's pipe: %w", err)
			for id, c := range b.pending {
				close(c)
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		var m cdpMessage
		if err := json.Unmarshal(raw[:len(raw)-1], &m); err != nil {
			continue
		}
		b.mu.Lock()
		if c, ok := b.pending[m.ID]; ok && m.ID != 0 {
			delete(b.pending, m.ID)
			c <- m
		} else if p := b.pages[m.SessionID]; p != nil && m.Method != "" {
			p.event(m)
		}
		b.mu.Unlock()
	}
}

// call sends a command and waits for its answer.
func (b *Browser) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	c := make(chan cdpMessage, 1)
	b.mu.Lock()
	if b.err != nil {
		b.mu.Unlock()
		return nil, b.err
	}
	b.nextID++
	id := b.nextID
	b.pending[id] = c
	b.mu.Unlock()
	msg, err := json.Marshal(struct {
		ID        int    `json:"id"`
		SessionID string `json:"sessionId,omitempty"`
		Method    string `json:"method"`
		Params    any    `json:"params,omitempty"`
	}{id, session, method, params})
	if err != nil {
		return nil, err
	}
	if _, err := b.in.Write(append(msg, 0)); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m, ok := <-c:
		if !ok {
			return nil, fmt.Errorf("%s: chromium went away", method)
		}
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		return m.Result, nil
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// Page is a tab of a Browser.
type Page struct {
	b       *Browser
	t       testing.TB
	session string
	loaded  chan struct{} // a Page.loadEventFired since the last Navigate

	mu       sync.Mutex
	problems []string
}

// NewPage opens a tab of the given size in CSS pixels, with the page,
// console and log domains on.
func (b *Browser) NewPage(t testing.TB, width, height int) *Page {
	t.Helper()
	var target struct {
		TargetID string `json:"targetId"`
	}
	b.must(t, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	b.must(t, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	p := &Page{b: b, t: t, session: attached.SessionID, loaded: make(chan struct{}, 1)}
	b.mu.Lock()
	b.pages[p.session] = p
	b.mu.Unlock()
	for _, domain := range []string{"Page", "Runtime", "Log"} {
		b.must(t, p.session, domain+".enable", nil, nil)
	}
	b.must(t, p.session, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, nil)
	return p
}

// must calls method and decodes its result into out, failing t on error.
func (b *Browser) must(t testing.TB, session, method string, params, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := b.call(ctx, session, method, params)
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, b.stderr.String())
	}
	if out != nil {
		if err := json.Unmarshal(res, out); err != nil {
			t.Fatalf("chromium: %s: %v: %s", method, err, res)
		}
	}
}

// event takes an event of the page's session. The Browser's lock is held.
func (p *Page) event(m cdpMessage) {
	switch m.Method {
	case "Page.loadEventFired":
		select {
		case p.loaded <- struct{}{}:
		default:
		}
	case "Runtime.consoleAPICalled":
		var e struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		_ = json.Unmarshal(m.Params, &e)
		var parts []string
		for _, a := range e.Args {
			parts = append(parts, fmt.Sprint(a.Value, a.Description))
		}
		p.problem("console." + e.Type + ": " + strings.Join(parts, " "))
	case "Runtime.exceptionThrown":
		p.problem("exception: " + string(m.Params))
	case "Log.entryAdded":
		var e struct {
			Entry struct {
				Level, Source, Text, URL string
			} `json:"entry"`
		}
		_ = json.Unmarshal(m.Params, &e)
		p.problem(fmt.Sprintf("log %s (%s): %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL))
	}
}

func (p *Page) problem(s string) {
	p.mu.Lock()
	p.problems = append(p.problems, s)
	p.mu.Unlock()
}

// Problems returns what the page wrote to its console (any level), threw,
// or the browser logged about it (a failed load, a blocked request).
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// Navigate loads url and waits for its load event.
func (p *Page) Navigate(url string) {
	p.t.Helper()
	select {
	case <-p.loaded:
	default:
	}
	var res struct {
		ErrorText string `json:"errorText"`
	}
	p.b.must(p.t, p.session, "Page.navigate", map[string]any{"url": url}, &res)
	if res.ErrorText != "" {
		p.t.Fatalf("chromium: navigate to %s: %s", url, res.ErrorText)
	}
	select {
	case <-p.loaded:
	case <-time.After(60 * time.Second):
		p.t.Fatalf("chromium: %s did not load within 60s", url)
	}
}

// Eval evaluates a JavaScript expression in the page, awaiting it if it
// is a promise, and decodes its value (which must be JSON) into out. The
// page's own markup has no script; tests read it through this.
func (p *Page) Eval(expr string, out any) {
	p.t.Helper()
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails any `json:"exceptionDetails"`
	}
	p.b.must(p.t, p.session, "Runtime.evaluate",
		map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &res)
	if res.ExceptionDetails != nil {
		p.t.Fatalf("chromium: %s: %v", expr, res.ExceptionDetails)
	}
	if out != nil {
		if err := json.Unmarshal(res.Result.Value, out); err != nil {
			p.t.Fatalf("chromium: %s: %v: %s", expr, err, res.Result.Value)
		}
	}
}

// Screenshot writes a PNG of the viewport to path.
func (p *Page) Screenshot(path string) {
	p.t.Helper()
	p.screenshot(path, map[string]any{"format": "png"})
}

// ScreenshotOf writes a PNG of the first element that matches a CSS
// selector to path.
func (p *Page) ScreenshotOf(selector, path string) {
	p.t.Helper()
	var r struct{ X, Y, Width, Height float64 }
	sel, _ := json.Marshal(selector)
	p.Eval(`(() => { const r = document.querySelector(`+string(sel)+`).getBoundingClientRect();
		return {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height}; })()`, &r)
	p.screenshot(path, map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": r.X, "y": r.Y, "width": r.Width, "height": r.Height, "scale": 1}})
}

// screenshot takes a screenshot with params and writes it to path.
func (p *Page) screenshot(path string, params map[string]any) {
	p.t.Helper()
	var res struct {
		Data string `json:"data"`
	}
	p.b.must(p.t, p.session, "Page.captureScreenshot", params, &res)
	png, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// NavigationTiming is the page's PerformanceNavigationTiming, in
// milliseconds from the start of the navigation.
type NavigationTiming struct {
	ResponseStart            float64 `json:"responseStart"`
	ResponseEnd              float64 `json:"responseEnd"`
	DOMContentLoadedEventEnd float64 `json:"domContentLoadedEventEnd"`
	LoadEventEnd             float64 `json:"loadEventEnd"`
	TransferSize             float64 `json:"transferSize"`
	// Painted is when the second animation frame after the load ran:
	// the page has been laid out and painted by then.
	Painted float64 `json:"painted"`
}

// Timing returns the last navigation's timing, once the page has been
// painted.
func (p *Page) Timing() NavigationTiming {
	p.t.Helper()
	var nt NavigationTiming
	p.Eval(`new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => {
		const n = performance.getEntriesByType("navigation")[0].toJSON();
		n.painted = performance.now();
		done(n);
	})))`, &nt)
	return nt
}
