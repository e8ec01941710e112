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

// Command promstat reads a tcpping_exporter's /metrics for bench/run.sh.
//
//	promstat snap -url URL [-extra NAME]
//	    one scrape, summed per metric over all targets except NAME (whose
//	    series are printed apart with an x_ prefix), as key=value pairs
//	promstat wait -url URL -connected N [-timeout D]
//	    poll until N targets are connected
//	promstat scrapes -url URL -every D -duration D [-formats text,proto,text-gzip]
//	    scrape every D for a while, cycling through the formats, and print
//	    the median time and size of each format's scrapes
//
// It only speaks plain HTTP to the address it is given.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// accept headers of the exposition formats, as Prometheus sends them.
var accept = map[string]string{
	"text":      "text/plain;version=0.0.4",
	"text-gzip": "text/plain;version=0.0.4",
	"proto":     "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "snap":
		err = snapCmd(os.Args[2:])
	case "wait":
		err = waitCmd(os.Args[2:])
	case "scrapes":
		err = scrapesCmd(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "promstat:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: promstat snap|wait|scrapes -url URL [flags]")
	os.Exit(2)
}

// scrape is one timed GET of url in format.
type scrape struct {
	body     []byte
	duration time.Duration
	// size is the number of bytes on the wire (compressed for text-gzip).
	size int
}

var client = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{DisableCompression: true, MaxIdleConns: 1},
}

// get scrapes url once. The time runs from sending the request to reading
// the last byte of the body. Unless keep, the body is counted and
// discarded as it arrives: the scraper stands in for a Prometheus server on
// another machine, so on the benchmark's machine it should cost no more
// than reading the bytes (io.ReadAll of a 30 MiB body copies it several
// times as it grows, CPU taken from the processes being measured).
func get(url, format string, keep bool) (scrape, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return scrape{}, err
	}
	req.Header.Set("Accept", accept[format])
	if format == "text-gzip" {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return scrape{}, err
	}
	var (
		body []byte
		n    int64
	)
	if keep {
		body, err = io.ReadAll(resp.Body)
		n = int64(len(body))
	} else {
		n, err = io.Copy(io.Discard, resp.Body)
	}
	d := time.Since(start)
	_ = resp.Body.Close()
	if err != nil {
		return scrape{}, fmt.Errorf("read %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return scrape{}, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	ct := resp.Header.Get("Content-Type")
	if (format == "proto") != strings.Contains(ct, "protobuf") {
		return scrape{}, fmt.Errorf("GET %s as %s: got Content-Type %q", url, format, ct)
	}
	if format == "text-gzip" && resp.Header.Get("Content-Encoding") != "gzip" {
		return scrape{}, fmt.Errorf("GET %s: asked for gzip, got Content-Encoding %q", url, resp.Header.Get("Content-Encoding"))
	}
	return scrape{body: body, duration: d, size: int(n)}, nil
}

func snapCmd(args []string) error {
	fs := flag.NewFlagSet("snap", flag.ExitOnError)
	url := fs.String("url", "", "metrics URL")
	extra := fs.String("extra", "", "target name whose series are summed apart as x_*")
	_ = fs.Parse(args)
	s, err := get(*url, "text", true)
	if err != nil {
		return err
	}
	sums, err := sumText(string(s.body), *extra)
	if err != nil {
		return err
	}
	fmt.Printf("%s scrape_ms=%.3f scrape_bytes=%d\n", sums, s.duration.Seconds()*1e3, s.size)
	return nil
}

func waitCmd(args []string) error {
	fs := flag.NewFlagSet("wait", flag.ExitOnError)
	url := fs.String("url", "", "metrics URL")
	want := fs.Int("connected", 0, "targets that must be connected")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	_ = fs.Parse(args)
	deadline := time.Now().Add(*timeout)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	last := "no answer"
	for time.Now().Before(deadline) {
		if s, err := get(*url, "text", true); err == nil {
			sums, err := sumText(string(s.body), "")
			if err != nil {
				return err
			}
			if int(sums.get("connected")) >= *want {
				return nil
			}
			last = fmt.Sprintf("%g of %d connected", sums.get("connected"), *want)
		} else {
			last = err.Error()
		}
		<-tick.C
	}
	return fmt.Errorf("wait %s: %s after %s", *url, last, *timeout)
}

func scrapesCmd(args []string) error {
	fs := flag.NewFlagSet("scrapes", flag.ExitOnError)
	url := fs.String("url", "", "metrics URL")
	every := fs.Duration("every", time.Second, "time between scrape starts")
	duration := fs.Duration("duration", 10*time.Second, "how long to scrape")
	formats := fs.String("formats", "text,proto,text-gzip", "formats to cycle through: text, proto, text-gzip")
	_ = fs.Parse(args)
	fl := strings.Split(*formats, ",")
	for _, f := range fl {
		if _, ok := accept[f]; !ok {
			return fmt.Errorf("unknown format %q", f)
		}
	}
	got := make(map[string][]scrape)
	tick := time.NewTicker(*every)
	defer tick.Stop()
	end := time.Now().Add(*duration)
	for i := 0; time.Now().Before(end); i++ {
		f := fl[i%len(fl)]
		s, err := get(*url, f, false)
		if err != nil {
			return err
		}
		got[f] = append(got[f], s)
		<-tick.C
	}
	for _, f := range fl {
		if len(got[f]) == 0 {
			return errors.New("no scrape of format " + f + ": make -duration longer")
		}
		fmt.Println(summarise(f, got[f]))
	}
	return nil
}
