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

// Command tcpping_exporter measures TCP round-trip time, loss and connection
// stability to its targets over one long-lived connection each, exposes
// them to Prometheus, and runs the echo server for the other end.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	toolkitweb "github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/tcpping/tcpping_exporter/collector"
	"github.com/tcpping/tcpping_exporter/discovery"
	"github.com/tcpping/tcpping_exporter/echo"
	"github.com/tcpping/tcpping_exporter/internal/earlyhup"
	"github.com/tcpping/tcpping_exporter/internal/history"
	"github.com/tcpping/tcpping_exporter/internal/web"
	"github.com/tcpping/tcpping_exporter/prober"
)

const defaultConfigFile = "tcpping.yml"

// shutdownTimeout bounds graceful shutdown.
const shutdownTimeout = 4 * time.Second

// maxHeaderBytes bounds an HTTP request's line and headers. net/http's
// default, 1 MiB, let a client that sends that much and never ends its
// headers hold a megabyte of the exporter's memory until the header
// timeout, per connection. The longest request of ours (/probe with the
// longest target and module, and a scrape's headers) takes under 2 KiB;
// 64 KiB leaves room for cookies and proxies' headers, as web servers'
// usual 8-64 KiB do.
const maxHeaderBytes = 64 << 10

// httpIdleTimeout closes a kept-alive HTTP connection that has no next
// request for this long, as Prometheus' own server does (its read
// timeout, 5m): longer than any usual scrape interval, and a client gone
// quiet gives its --web.max-connections slot back.
const httpIdleTimeout = 5 * time.Minute

// historySlot is the resolution of the probers' history (--web.history):
// a graph's point per minute.
const historySlot = time.Minute

func main() {
	setGCPercent()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// defaultGOGC is the garbage collector's target, in percent of the live
// heap, unless the GOGC environment variable sets one. Go's default of 100
// lets the heap grow to twice what is live before a collection, and the
// process keeps those pages: at 10 000 targets that doubles the probers'
// memory. Their state is long-lived and they allocate almost nothing once
// connected (a scrape's allocations are bounded too, see collector), so a
// collection seldom runs whatever the target: at 10 000 targets at 1 s
// the heap grows 27–57 KB/s, one collection a minute or two at 10 % of a
// 30 MB heap, each a few tens of ms of CPU. README, "Performance".
const defaultGOGC = 10

// setGCPercent sets defaultGOGC unless GOGC is set (and not empty).
func setGCPercent() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
}

// flags are the parsed command line.
type flags struct {
	configFile, telemetryPath, logLevel, logFormat string
	meshID                                         string
	configCheck, echo                              bool
	echoAddrs, echoAllowed, probeAllowed           []string
	echoMaxConns, maxDynamic, webMaxConns          int
	echoIdle, probeIdle, history                   time.Duration
	configGiven                                    bool
}

// config is the config file the flags name.
func (f flags) config() web.ConfigFile {
	return web.ConfigFile{Path: f.configFile, Explicit: f.configGiven}
}

// run is the whole program; it returns the exit code so deferred calls run.
func run(args []string, stdout, stderr io.Writer) int {
	app := kingpin.New("tcpping_exporter", "Prometheus exporter for TCP round-trip time, loss and connection stability, with the echo server for the other end.")
	var f flags
	app.Flag("config.file", "YAML config file. If the default file is missing, the built-in default module runs with no static targets.").
		Default(defaultConfigFile).IsSetByUser(&f.configGiven).StringVar(&f.configFile)
	app.Flag("config.check", "Validate the config file, print the result and exit 0 or 1.").BoolVar(&f.configCheck)
	toolkitFlags := kingpinflag.AddFlags(app, ":2112")
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&f.telemetryPath)
	app.Flag("web.history", "How far back the landing page's per-target graphs reach (in-memory, at most "+maxHistory+"; 0 disables).").Default("3h").SetValue((*historyValue)(&f.history))
	app.Flag("web.max-connections", "Most concurrent HTTP connections; beyond it new ones are closed at once (0: no limit).").Default("1024").SetValue((*countValue)(&f.webMaxConns))
	app.Flag("echo", "Run the echo server (--no-echo to disable).").Default("true").BoolVar(&f.echo)
	app.Flag("echo.listen-address", "Address the echo server listens on; repeatable.").Default(":4000").StringsVar(&f.echoAddrs)
	app.Flag("echo.max-connections", "Most concurrent echo connections; beyond it new ones are closed at once (0: no limit).").Default("10000").SetValue((*countValue)(&f.echoMaxConns))
	app.Flag("echo.idle-timeout", "Close an echo connection that completes no frame for this long (0: the default).").Default("60s").SetValue((*spanValue)(&f.echoIdle))
	app.Flag("echo.allowed-network", "CIDR allowed to use the echo server; repeatable (default: any).").StringsVar(&f.echoAllowed)
	app.Flag("probe.max-dynamic-targets", "Cap on probers started by /probe.").Default("1000").SetValue((*countValue)(&f.maxDynamic))
	app.Flag("probe.idle-timeout", "Stop a /probe prober not requested for this long.").Default("15m").SetValue((*spanValue)(&f.probeIdle))
	app.Flag("probe.allowed-target", "CIDR or DNS-name glob (*.dc1.example.net) that /probe targets must match; repeatable (default: any, so any /probe caller can make the exporter connect anywhere).").StringsVar(&f.probeAllowed)
	app.Flag("mesh.id", "This exporter's place on the peers ring of discovery unless exclude_self finds its own echo address among the targets (default: the host name).").StringVar(&f.meshID)
	app.Flag("log.level", "Only log messages with the given severity or above: debug, info, warn, error.").Default("info").StringVar(&f.logLevel)
	app.Flag("log.format", "Output format of log messages: logfmt or json.").Default("logfmt").StringVar(&f.logFormat)
	app.Version(version.Print("tcpping_exporter"))
	setManPageHeader()
	setOptionalCommandUsage(app)
	app.HelpFlag.Short('h')
	addServiceFlag(app, args, stdout) // Windows: --service=install|uninstall|start|stop
	// With no command the exporter runs, as it did before it had commands.
	app.Command("serve", "Run the exporter (the default).").Default().Hidden()
	pingCmd := addPingCommand(app)
	nameFlagErrors(app)
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	if err := checkBoolFlagValues(app, args); err != nil {
		fmt.Fprintf(stderr, "tcpping_exporter: %s\n", err)
		return 2
	}
	cmd, err := app.Parse(joinNegativeValues(app, args))
	if err != nil {
		fmt.Fprintf(stderr, "tcpping_exporter: %s\n", err)
		return 2
	}
	// Whatever the command: a flag the exporter would refuse must not
	// pass --config.check (run, say, before the same command line starts
	// the service) or ping.
	checked, err := checkFlags(f, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "tcpping_exporter: %s\n", err)
		return 2
	}
	if cmd == pingCmd.cmd.FullCommand() {
		earlyhup.Release()
		return pingCmd.run(stdout, stderr)
	}
	if f.configCheck {
		earlyhup.Release()
		return checkConfig(f, webConfigFile(toolkitFlags), stdout, stderr)
	}
	if err := serve(f, checked, toolkitFlags); err != nil {
		level.Error(checked.logs.root).Log("msg", "exiting on error", "err", err)
		return 1
	}
	return 0
}

// serve wires the components and runs until SIGTERM or SIGINT.
func serve(f flags, checked checkedFlags, toolkitFlags *toolkitweb.FlagConfig) error {
	if file := webConfigFile(toolkitFlags); file != "" {
		if err := toolkitweb.Validate(file); err != nil {
			return fmt.Errorf("--web.config.file %s: %w", file, err)
		}
	}
	logs := checked.logs
	// Caught since the process started (earlyhup), a SIGHUP sent while
	// the exporter starts waits for the reload loop.
	hup := earlyhup.Signals()

	logger := logs.root
	level.Info(logger).Log("msg", "starting tcpping_exporter", "version", version.Info())
	level.Info(logger).Log("msg", "build context", "build_context", version.BuildContext())

	svcCtx, svcDone := serviceContext(logger) // a Windows service stops on the service manager's Stop or Shutdown
	defer svcDone()
	ctx, stop := signal.NotifyContext(svcCtx, syscall.SIGTERM, os.Interrupt)
	defer stop()

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("tcpping_exporter"),
	)

	var echoSrv *echo.Server
	if f.echo {
		var err error
		echoSrv, err = echo.New(echo.Options{
			ListenAddresses: f.echoAddrs,
			MaxConnections:  f.echoMaxConns,
			IdleTimeout:     f.echoIdle,
			AllowedNetworks: checked.echoNets,
		}, logger, reg)
		if err != nil {
			return fmt.Errorf("echo server: %w", err)
		}
		if err := echoSrv.Listen(); err != nil {
			return fmt.Errorf("echo server: %w", err)
		}
	}

	probeCtx, stopProbers := context.WithCancel(context.Background())
	defer stopProbers()
	histories := history.NewPool(f.history, historySlot)
	manager := prober.NewManager(probeCtx, prober.ManagerOptions{
		MaxDynamic: f.maxDynamic, IdleTimeout: f.probeIdle, History: histories,
		DebugOff: !logs.debug(),
	}, logger)
	rl := web.NewReloader(f.config(), manager, logger, reg)
	disc, err := newDiscovery(f, echoSrv, rl, logs, reg)
	if err == nil {
		err = rl.Reload()
		if err != nil {
			err = fmt.Errorf("config: %w", err)
		}
	}
	if err != nil {
		manager.Stop() // its engine's workers
		if echoSrv != nil {
			echoSrv.Shutdown()
		}
		return err
	}
	reg.MustRegister(collector.NewProberCount(manager.SourceCounts, rl.HasDiscovery))

	handler := web.NewHandler(web.Options{
		TelemetryPath:  f.telemetryPath,
		Registry:       reg,
		Reloader:       rl,
		Manager:        manager,
		AllowedTargets: checked.allowed,
		// The span as given, not the Pool's, rounded up to whole slots:
		// /graph takes ranges up to the flag's value and says it.
		HistorySpan: f.history,
	}, logger)
	webLogger := log.With(logger, "component", "web")
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       httpIdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         web.NewConnLimit(f.webMaxConns, webLogger).ConnState,
		ErrorLog:          httpServerErrorLog(webLogger),
		// A request's context ends at SIGTERM: a first /probe waiting for
		// its new prober's first result, or a POST /-/reload for its
		// turn, answers at once, and the graceful shutdown need not wait
		// shutdownTimeout for it.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}

	errc := make(chan error, 2)
	go rl.Run(ctx, hup)
	discDone := make(chan struct{})
	go func() {
		defer close(discDone)
		_ = disc.Run(ctx) // returns nil when ctx ends; only one Run runs
	}()
	if echoSrv != nil {
		// Not ctx: the echo server stops after the probers (below), or
		// an exporter probing its own echo server would see its
		// connection lost, and warn, as it stops.
		go func() {
			if err := echoSrv.Serve(context.Background()); err != nil {
				errc <- fmt.Errorf("echo server: %w", err)
			}
		}()
	}
	go func() {
		if err := toolkitweb.ListenAndServe(srv, toolkitFlags, logs.slog()); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("web server: %w", err)
		}
	}()

	var runErr error
	select {
	case <-ctx.Done():
		level.Info(logger).Log("msg", "shutting down")
	case runErr = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		level.Warn(logger).Log("msg", "web server shutdown", "err", err)
	}
	stop()
	<-discDone // no discovery update reaches the Manager now (discovery.Runner.Run)
	// Probers first: the self-probe would otherwise log its connection
	// lost to our own echo server.
	manager.Stop()
	if echoSrv != nil {
		echoSrv.Shutdown()
	}
	level.Info(logger).Log("msg", "stopped")
	return runErr
}

// newDiscovery returns the discovery Runner of the exporter: it reports
// its targets to rl, which applies every config it loads to it. It places
// the exporter by the echo server's bound ports (none without it) and
// --mesh.id.
func newDiscovery(f flags, echoSrv *echo.Server, rl *web.Reloader, logs loggers, reg prometheus.Registerer) (*discovery.Runner, error) {
	var bound []string
	if echoSrv != nil {
		for _, a := range echoSrv.Addrs() {
			bound = append(bound, a.String())
		}
	}
	self, err := discovery.NewSelf(f.meshID, bound)
	if err != nil {
		return nil, err
	}
	r, err := discovery.New(discovery.Options{
		Logger:      log.With(logs.root, "component", "discovery"),
		SlogHandler: logs.slog().Handler(),
		Registerer:  reg,
		OnUpdate:    func(u discovery.Update) { rl.Discovered(u.Seq, u.Targets()) },
		Self:        self,
	})
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	rl.SetDiscovery(r)
	return r, nil
}
