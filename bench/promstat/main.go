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
//	promstat impact -url URL -extra NAME -every D -slice D -pairs N [-formats ...]
//	    what scraping does to the probes: 2N slices, alternately quiet and
//	    scraped every D (quiet, scraped, scraped, quiet, ...), each
//	    delimited by a snap; prints the scrapes' summaries as scrapes does,
//	    then the mean RTT (all targets but NAME) and the prober's CPU rate
//	    over the quiet and over the scraped slices
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
	case "impact":
		err = impactCmd(os.Stdout, os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "promstat:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: promstat snap|wait|scrapes|impact -url URL [flags]")
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
	sums, s, _, err := snapSums(*url, *extra)
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
	fl, err := parseFormats(*formats)
	if err != nil {
		return err
	}
	got := make(map[string][]scrape)
	if _, err := scrapeFor(*url, fl, *every, *duration, 0, got); err != nil {
		return err
	}
	return printScrapes(os.Stdout, fl, got)
}

// parseFormats splits a -formats list and checks each name.
func parseFormats(list string) ([]string, error) {
	fl := strings.Split(list, ",")
	for _, f := range fl {
		if _, ok := accept[f]; !ok {
			return nil, fmt.Errorf("unknown format %q", f)
		}
	}
	return fl, nil
}

// scrapeFor scrapes url every `every` for duration, cycling through the
// formats from the i-th on, and adds each scrape to got. It returns the
// index to go on from.
func scrapeFor(url string, fl []string, every, duration time.Duration, i int, got map[string][]scrape) (int, error) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	end := time.Now().Add(duration)
	for ; time.Now().Before(end); i++ {
		f := fl[i%len(fl)]
		s, err := get(url, f, false)
		if err != nil {
			return i, err
		}
		got[f] = append(got[f], s)
		<-tick.C
	}
	return i, nil
}

// printScrapes prints each format's summary line.
func printScrapes(w io.Writer, fl []string, got map[string][]scrape) error {
	for _, f := range fl {
		if len(got[f]) == 0 {
			return errors.New("no scrape of format " + f + ": make -duration longer")
		}
		fmt.Fprintln(w, summarise(f, got[f]))
	}
	return nil
}

// snapSums scrapes url once as text and sums it (see snap); it also
// returns the scrape and when its body had been read.
func snapSums(url, extra string) (*sums, scrape, time.Time, error) {
	s, err := get(url, "text", true)
	if err != nil {
		return nil, s, time.Time{}, err
	}
	t := time.Now()
	sums, err := sumText(string(s.body), extra)
	return sums, s, t, err
}

// impactCmd measures what scraping costs the probes. Slices alternate in
// the order quiet, scraped, scraped, quiet, ... so that a drift of the
// machine's speed over the run weighs on both kinds alike, which one
// window after the other cannot promise: on a shared VM the mean RTT of
// two quiet minutes can differ by more than the effect measured.
func impactCmd(w io.Writer, args []string) error {
	fs := flag.NewFlagSet("impact", flag.ExitOnError)
	url := fs.String("url", "", "metrics URL")
	extra := fs.String("extra", "", "target name left out of the RTT")
	every := fs.Duration("every", time.Second, "time between scrape starts in a scraped slice")
	slice := fs.Duration("slice", 10*time.Second, "length of one slice")
	pairs := fs.Int("pairs", 3, "quiet and scraped slices of each kind")
	formats := fs.String("formats", "text,proto,text-gzip", "formats to cycle through: text, proto, text-gzip")
	_ = fs.Parse(args)
	fl, err := parseFormats(*formats)
	if err != nil {
		return err
	}
	if *pairs < 1 || *slice <= 0 {
		return errors.New("impact: -pairs must be at least 1 and -slice positive")
	}
	// Totals over the quiet (0) and scraped (1) slices.
	var rttSum, rttCount, cpu, secs [2]float64
	got := make(map[string][]scrape)
	scrapes := 0 // so far, over all scraped slices: where the formats go on from
	prev, _, pt, err := snapSums(*url, *extra)
	if err != nil {
		return err
	}
	for i := range 2 * *pairs {
		k := (i + 1) / 2 % 2 // 0 1 1 0 0 1 ...
		if k == 1 {
			if scrapes, err = scrapeFor(*url, fl, *every, *slice, scrapes, got); err != nil {
				return err
			}
		} else {
			time.Sleep(*slice)
		}
		cur, _, ct, err := snapSums(*url, *extra)
		if err != nil {
			return err
		}
		rttSum[k] += cur.get("rtt_sum") - prev.get("rtt_sum")
		rttCount[k] += cur.get("rtt_count") - prev.get("rtt_count")
		cpu[k] += cur.get("cpu_seconds") - prev.get("cpu_seconds")
		secs[k] += ct.Sub(pt).Seconds()
		prev, pt = cur, ct
	}
	if err := printScrapes(w, fl, got); err != nil {
		return err
	}
	if rttCount[0] == 0 || rttCount[1] == 0 {
		return errors.New("impact: no replies in the quiet or the scraped slices")
	}
	quiet, scraped := rttSum[0]/rttCount[0], rttSum[1]/rttCount[1]
	rate := func(k int) float64 { return cpu[k] / secs[k] }
	fmt.Fprintf(w, "impact quiet_rtt_us=%.3f scraped_rtt_us=%.3f ratio=%.4f quiet_cpu_rate=%.4f scraped_cpu_rate=%.4f scrapes=%d cpu_ms_per_scrape=%.3f\n",
		quiet*1e6, scraped*1e6, scraped/quiet, rate(0), rate(1), scrapes,
		(rate(1)-rate(0))*secs[1]/float64(max(scrapes, 1))*1e3)
	return nil
}
