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

// Command churn measures one tcpping_exporter whose targets come from
// discovery and keep changing: it runs the real binary as an echo server
// and as a prober whose only targets are a file_sd file of N addresses on
// 127.0.0.0/8, replaces a share of them every period for a while, scrapes
// /metrics on a short period and checks sent == received + timeouts +
// in_flight for every target on every scrape, and prints, per period, the
// prober's CPU, RSS, open files and goroutines, and its discovered
// probers. It exits 1 if a scrape broke the invariant or failed, if a
// period ended with another number of probers than N, or if the open
// files or goroutines of the last period exceed those of the first by
// more than -slack, or the RSS by more than -rss-growth.
//
//	go build -o /tmp/tcpping_exporter . && go run ./bench/churn -bin /tmp/tcpping_exporter
//	go run ./bench/churn -bin B -targets 5000 -churn 0.1 -every 30s -duration 5m
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// options are the command line.
type options struct {
	bin                  string
	targets              int
	churn                float64
	every, duration      time.Duration
	scrape, interval     time.Duration
	echoPort, webPort    int
	slack                int
	rssGrowth            float64
	dir                  string
	settle               time.Duration
	keep                 bool
	refresh              time.Duration
	maxScrapeErrorsShown int
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "", "the tcpping_exporter binary (required)")
	flag.IntVar(&o.targets, "targets", 5000, "discovered targets")
	flag.Float64Var(&o.churn, "churn", 0.1, "share of the targets replaced every period")
	flag.DurationVar(&o.every, "every", 30*time.Second, "churn period")
	flag.DurationVar(&o.duration, "duration", 5*time.Minute, "how long to churn")
	flag.DurationVar(&o.scrape, "scrape", 5*time.Second, "scrape period; every scrape is checked")
	flag.DurationVar(&o.interval, "interval", time.Second, "the probe interval of the targets' module")
	flag.DurationVar(&o.refresh, "refresh", 5*time.Second, "the file_sd refresh_interval")
	flag.IntVar(&o.echoPort, "echo-port", 24100, "port of the echo server, on every address")
	flag.IntVar(&o.webPort, "web-port", 24101, "port of the prober's /metrics on 127.0.0.1")
	flag.IntVar(&o.slack, "slack", 20, "open files and goroutines the last period may have above the first")
	flag.Float64Var(&o.rssGrowth, "rss-growth", 0.15, "share by which the last period's RSS may exceed the first's")
	flag.DurationVar(&o.settle, "settle", 60*time.Second, "how long the start and each change may take to settle")
	flag.StringVar(&o.dir, "dir", "", "work directory (default: a new one in /tmp, removed unless -keep)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (configs, logs)")
	flag.Parse()
	o.maxScrapeErrorsShown = 10
	if o.bin == "" {
		fmt.Fprintln(os.Stderr, "churn: -bin is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "churn:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// address returns the n-th target address: 127.1.0.1 upwards, on port.
func address(n int, port int) string {
	a := netip.AddrFrom4([4]byte{127, byte(1 + n/65000), byte(n % 65000 / 250), byte(1 + n%250)})
	return netip.AddrPortFrom(a, uint16(port)).String()
}

// writeTargets writes the targets as a file_sd file, atomically.
func writeTargets(path string, targets []string) error {
	b, err := json.Marshal([]map[string]any{{"targets": targets}})
	if err != nil {
		return err
	}
	if err := os.WriteFile(path+".tmp", b, 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// run runs the bench and reports whether it passed.
func run(ctx context.Context, o options) (bool, error) {
	if o.dir == "" {
		dir, err := os.MkdirTemp("", "tcpping-churn")
		if err != nil {
			return false, err
		}
		o.dir = dir
		if !o.keep {
			defer os.RemoveAll(dir)
		}
	}
	targetsFile := filepath.Join(o.dir, "targets.json")
	next := 0
	current := make([]string, 0, o.targets)
	for range o.targets {
		current = append(current, address(next, o.echoPort))
		next++
	}
	if err := writeTargets(targetsFile, current); err != nil {
		return false, err
	}
	cfg := fmt.Sprintf(`modules:
  default: {interval: %s}
discovery:
  - name: churn
    file_sd_configs: [{files: [%s], refresh_interval: %s}]
`, o.interval, targetsFile, o.refresh)
	cfgFile := filepath.Join(o.dir, "tcpping.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		return false, err
	}
	empty := filepath.Join(o.dir, "empty.yml")
	if err := os.WriteFile(empty, []byte("targets: []\n"), 0o644); err != nil {
		return false, err
	}
	echo, err := start(o, "echo", "--config.file="+empty, "--web.listen-address=127.0.0.1:"+strconv.Itoa(o.webPort+1),
		"--echo.listen-address=:"+strconv.Itoa(o.echoPort), "--echo.max-connections=20000", "--log.level=warn")
	if err != nil {
		return false, err
	}
	defer echo.stop()
	prober, err := start(o, "prober", "--config.file="+cfgFile, "--web.listen-address=127.0.0.1:"+strconv.Itoa(o.webPort),
		"--no-echo", "--log.level=warn")
	if err != nil {
		return false, err
	}
	defer prober.stop()
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", o.webPort)
	pid := prober.cmd.Process.Pid

	ok := true
	scrapes, scrapeErrs, broken := 0, 0, 0
	check := func() (scrapeResult, bool) {
		r, err := scrape(url)
		scrapes++
		if err != nil {
			scrapeErrs++
			if scrapeErrs <= o.maxScrapeErrorsShown {
				fmt.Printf("scrape failed: %v\n", err)
			}
			return r, false
		}
		if r.broken > 0 {
			broken += r.broken
			fmt.Printf("INVARIANT BROKEN on %d targets, e.g. %s\n", r.broken, r.firstBroken)
		}
		return r, true
	}
	// waitProbers scrapes until the prober runs want discovered probers.
	waitProbers := func(want int) (time.Duration, error) {
		begin := time.Now()
		for time.Since(begin) < o.settle {
			if r, good := check(); good && int(r.probers) == want && r.targets == want {
				return time.Since(begin), nil
			}
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(time.Second):
			}
		}
		return 0, fmt.Errorf("not %d discovered probers within %v", want, o.settle)
	}
	if err := waitHealthy(ctx, fmt.Sprintf("http://127.0.0.1:%d/-/healthy", o.webPort)); err != nil {
		return false, err
	}
	took, err := waitProbers(o.targets)
	if err != nil {
		return false, err
	}
	fmt.Printf("%d targets discovered and probed after %v\n\n", o.targets, took.Round(time.Second))
	fmt.Printf("| period | CPU %% | RSS MiB | open fds | goroutines | probers | scrapes | settled after |\n|---|---|---|---|---|---|---|---|\n")

	periods := int(o.duration / o.every)
	var first, last usage
	prev, err := procUsage(pid)
	if err != nil {
		return false, err
	}
	prevAt := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	for p := 0; p <= periods; p++ {
		// Churn (not before the first period, which is the baseline).
		settled := time.Duration(0)
		if p > 0 {
			n := int(float64(o.targets) * o.churn)
			rng.Shuffle(len(current), func(i, j int) { current[i], current[j] = current[j], current[i] })
			for i := range n {
				current[i] = address(next, o.echoPort)
				next++
			}
			if err := writeTargets(targetsFile, current); err != nil {
				return false, err
			}
		}
		periodEnd := time.Now().Add(o.every)
		lastScrape := scrapeResult{}
		for time.Now().Before(periodEnd) {
			r, good := check()
			if good {
				lastScrape = r
				if settled == 0 && p > 0 && sameSet(r.addrs, current) {
					settled = time.Since(periodEnd.Add(-o.every))
				}
			}
			select {
			case <-ctx.Done():
				return false, ctx.Err()
			case <-time.After(o.scrape):
			}
		}
		u, err := procUsage(pid)
		if err != nil {
			return false, err
		}
		u.goroutines, u.probers = lastScrape.goroutines, lastScrape.probers
		cpu := float64(u.cpu-prev.cpu) / float64(time.Since(prevAt)) * 100
		prev, prevAt = u, time.Now()
		fmt.Printf("| %d | %.1f | %.1f | %d | %.0f | %.0f | %d | %v |\n", p, cpu, float64(u.rss)/(1<<20), u.fds, u.goroutines, u.probers, scrapes, settled.Round(100*time.Millisecond))
		if int(u.probers) != o.targets {
			fmt.Printf("period %d ended with %v discovered probers, want %d\n", p, u.probers, o.targets)
			ok = false
		}
		if p == 0 {
			first = u
		}
		last = u
	}
	fmt.Printf("\n%d scrapes checked, %d failed, %d broken invariants; %d addresses used in all\n", scrapes, scrapeErrs, broken, next)
	if scrapeErrs > 0 || broken > 0 {
		ok = false
	}
	if last.fds > first.fds+o.slack || last.goroutines > first.goroutines+float64(o.slack) {
		fmt.Printf("LEAK? open fds %d → %d, goroutines %v → %v (slack %d)\n", first.fds, last.fds, first.goroutines, last.goroutines, o.slack)
		ok = false
	}
	if float64(last.rss) > float64(first.rss)*(1+o.rssGrowth) {
		fmt.Printf("RSS grew from %.1f to %.1f MiB, more than %.0f %%\n", float64(first.rss)/(1<<20), float64(last.rss)/(1<<20), o.rssGrowth*100)
		ok = false
	}
	if ok {
		fmt.Println("PASS")
	} else {
		fmt.Println("FAIL")
	}
	return ok, nil
}
