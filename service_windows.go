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

//go:build windows

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/tcpping/tcpping_exporter/internal/svcargs"
)

const (
	// serviceName is the name the service control manager knows the
	// exporter by (sc.exe, Get-Service, the Services console).
	serviceName = "tcpping_exporter"
	// serviceAccount is the least privileged built-in account that can
	// use the network: the Windows counterpart of systemd's DynamicUser.
	serviceAccount = `NT AUTHORITY\LocalService`
	// serviceStateTimeout bounds the wait for start and stop to complete;
	// a stop takes at most shutdownTimeout.
	serviceStateTimeout = 30 * time.Second
)

// addServiceFlag adds --service=install|uninstall|start|stop to app. Once
// the whole command line has parsed, the flag's action performs the action
// on the Windows service and exits, as kingpin's --version does. install
// records args, less --service, as the service's command line.
func addServiceFlag(app *kingpin.Application, args []string, stdout io.Writer) {
	var action string
	app.Flag(svcargs.Flag, "Control the Windows service and exit: install (to run with the other flags given), uninstall, start or stop.").
		PlaceHolder("ACTION").
		Action(func(*kingpin.ParseContext) error {
			if err := controlService(action, args, stdout); err != nil {
				return fmt.Errorf("--%s=%s: %w", svcargs.Flag, action, err)
			}
			os.Exit(0)
			return nil
		}).
		EnumVar(&action, "install", "uninstall", "start", "stop")
}

// controlService performs action on the service.
func controlService(action string, args []string, stdout io.Writer) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to the service manager: %w", err)
	}
	defer m.Disconnect()
	switch action {
	case "install":
		err = installService(m, args)
	case "uninstall":
		err = uninstallService(m)
	case "start":
		err = startService(m)
	case "stop":
		err = stopService(m)
	default:
		err = fmt.Errorf("unknown action %q", action)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "service %s: %s: done\n", serviceName, action)
	return nil
}

// installService creates the service, started automatically at boot and
// restarted by the service manager when it fails (systemd's
// Restart=on-failure).
func installService(m *mgr.Mgr, args []string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("locate executable: %w", err)
	}
	exe, err = filepath.Abs(exe)
	if err != nil {
		return fmt.Errorf("locate executable: %w", err)
	}
	svcArgs, err := svcargs.Args(args, filepath.Abs)
	if err != nil {
		return err
	}
	if s, err := m.OpenService(serviceName); err == nil {
		s.Close()
		return fmt.Errorf("service %s already exists; uninstall it first", serviceName)
	}
	s, err := m.CreateService(serviceName, exe, mgr.Config{
		DisplayName:      "tcpping_exporter",
		Description:      "Measures TCP round-trip time, loss and connection stability for Prometheus, and runs the echo server for the other end.",
		StartType:        mgr.StartAutomatic,
		ServiceStartName: serviceAccount,
	}, svcArgs...)
	if err != nil {
		return fmt.Errorf("create service: %w", err)
	}
	defer s.Close()
	restart := mgr.RecoveryAction{Type: mgr.ServiceRestart, Delay: 5 * time.Second}
	if err := s.SetRecoveryActions([]mgr.RecoveryAction{restart, restart, restart}, uint32((24 * time.Hour).Seconds())); err != nil {
		return fmt.Errorf("set recovery actions: %w", err)
	}
	// Count a stop with a non-zero exit code (serve failed) as a failure too.
	if err := s.SetRecoveryActionsOnNonCrashFailures(true); err != nil {
		return fmt.Errorf("set recovery actions: %w", err)
	}
	return nil
}

// uninstallService stops the service if it runs and deletes it.
func uninstallService(m *mgr.Mgr) error {
	s, err := m.OpenService(serviceName)
	if err != nil {
		return fmt.Errorf("open service: %w", err)
	}
	defer s.Close()
	if st, err := s.Query(); err == nil && st.State != svc.Stopped {
		if err := stopAndWait(s); err != nil {
			return err
		}
	}
	if err := s.Delete(); err != nil {
		return fmt.Errorf("delete service: %w", err)
	}
	return nil
}

// startService starts the service and waits until it runs.
func startService(m *mgr.Mgr) error {
	s, err := m.OpenService(serviceName)
	if err != nil {
		return fmt.Errorf("open service: %w", err)
	}
	defer s.Close()
	if err := s.Start(); err != nil {
		return fmt.Errorf("start service: %w", err)
	}
	return waitState(s, svc.Running)
}

// stopService stops the service and waits until it has stopped.
func stopService(m *mgr.Mgr) error {
	s, err := m.OpenService(serviceName)
	if err != nil {
		return fmt.Errorf("open service: %w", err)
	}
	defer s.Close()
	return stopAndWait(s)
}

// stopAndWait asks s to stop and waits until it has.
func stopAndWait(s *mgr.Service) error {
	if _, err := s.Control(svc.Stop); err != nil && !errors.Is(err, windows.ERROR_SERVICE_NOT_ACTIVE) {
		return fmt.Errorf("stop service: %w", err)
	}
	return waitState(s, svc.Stopped)
}

// waitState polls s until it reaches want, fails by stopping, or
// serviceStateTimeout passes.
func waitState(s *mgr.Service, want svc.State) error {
	ticker := time.NewTicker(200 * time.Millisecond)
	defer ticker.Stop()
	deadline := time.Now().Add(serviceStateTimeout)
	for {
		st, err := s.Query()
		if err != nil {
			return fmt.Errorf("query service: %w", err)
		}
		switch {
		case st.State == want:
			return nil
		case st.State == svc.Stopped:
			return fmt.Errorf("service stopped (exit code %d, service exit code %d)", st.Win32ExitCode, st.ServiceSpecificExitCode)
		case time.Now().After(deadline):
			return fmt.Errorf("service still in state %d after %s", st.State, serviceStateTimeout)
		}
		<-ticker.C
	}
}

// serviceContext returns the context that stops serve when the service
// manager says Stop or Shutdown, and done, which serve defers: it reports
// the service stopped once everything has shut down. Outside a service it
// returns context.Background() and a no-op.
func serviceContext(logger log.Logger) (context.Context, func()) {
	isService, err := svc.IsWindowsService()
	if err != nil {
		level.Warn(logger).Log("msg", "cannot tell whether started as a Windows service; assuming not", "err", err)
	}
	if !isService {
		return context.Background(), func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &serviceHandler{stop: cancel, exit: make(chan uint32, 1)}
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		// svc.Run returns once Execute has returned, or at once on error.
		if err := svc.Run(serviceName, h); err != nil {
			level.Error(logger).Log("msg", "Windows service dispatcher failed; stopping", "err", err)
			cancel()
		}
	}()
	level.Info(logger).Log("msg", "running as a Windows service")
	return ctx, func() {
		var code uint32
		if ctx.Err() == nil {
			// serve ended without being asked to: a failure, which the
			// recovery actions set by install answer with a restart.
			code = 1
		}
		h.exit <- code
		<-dispatched
		cancel()
	}
}

// serviceHandler is the svc.Handler of the running service.
type serviceHandler struct {
	stop context.CancelFunc // cancels serve's context
	exit chan uint32        // serve's outcome, sent once when it has returned
}

// Execute reports the service running, turns Stop and Shutdown into a
// cancelled context, and returns, which reports the service stopped, once
// serve has shut down.
func (h *serviceHandler) Execute(_ []string, requests <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	const accepted = svc.AcceptStop | svc.AcceptShutdown
	status <- svc.Status{State: svc.Running, Accepts: accepted}
	for {
		select {
		case code := <-h.exit:
			return code != 0, code
		case req := <-requests:
			switch req.Cmd {
			case svc.Interrogate:
				status <- req.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending, WaitHint: uint32((shutdownTimeout + time.Second).Milliseconds())}
				h.stop()
			}
		}
	}
}
