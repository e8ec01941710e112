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
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/tcpping/tcpping_exporter/internal/history"
)

// intValue is an integer flag's value. kingpin's own Int parses a float
// and truncates it, so --echo.max-connections=0.5 would mean 0, no limit.
type intValue int

// Set parses s as a decimal integer.
func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("want an integer, got %q", s)
	}
	*v = intValue(n)
	return nil
}

func (v *intValue) String() string { return strconv.Itoa(int(*v)) }

// countValue is an integer flag's value that may not be negative:
// --probe.max-dynamic-targets=-1 would cap /probe at 0 probers.
type countValue int

// Set parses s as a decimal integer, 0 or more.
func (v *countValue) Set(s string) error {
	var n intValue
	if err := n.Set(s); err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("must not be negative, got %d", n)
	}
	*v = countValue(n)
	return nil
}

func (v *countValue) String() string { return strconv.Itoa(int(*v)) }

// spanValue is a duration flag's value that may not be negative:
// --probe.idle-timeout=-1m would never stop an idle prober.
type spanValue time.Duration

// Set parses s as a Go duration, 0 or more.
func (v *spanValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if d < 0 {
		return fmt.Errorf("must not be negative, got %s", d)
	}
	*v = spanValue(d)
	return nil
}

func (v *spanValue) String() string { return time.Duration(*v).String() }

// historyValue is --web.history's value: a spanValue of at most
// history.MaxSpan, as every target keeps that much history in memory.
type historyValue time.Duration

// Set parses s as a Go duration from 0 to history.MaxSpan.
func (v *historyValue) Set(s string) error {
	var d spanValue
	if err := d.Set(s); err != nil {
		return err
	}
	if time.Duration(d) > history.MaxSpan {
		return fmt.Errorf("must be at most %s (a week: each target keeps its history in memory), got %s", maxHistory, time.Duration(d))
	}
	*v = historyValue(d)
	return nil
}

func (v *historyValue) String() string { return time.Duration(*v).String() }

// namedValue is a flag's value whose errors name the flag: kingpin
// reports a value's error as it is, so that --probe.idle-timeout=1
// would say only `time: missing unit in duration "1"`.
type namedValue struct {
	name string
	kingpin.Value
}

// Set sets the value, naming the flag in its error.
func (v namedValue) Set(s string) error {
	if err := v.Value.Set(s); err != nil {
		return fmt.Errorf("%s: %w", v.name, err)
	}
	return nil
}

// nameFlagErrors makes every flag of app and of its commands that takes
// one value name itself in the error of a malformed value. Boolean,
// repeatable and string flags are left as they are: kingpin tells them by
// their value's type (it quotes a string flag's default in the help), and
// a string is never malformed.
func nameFlagErrors(app *kingpin.Application) {
	wrap := func(flags []*kingpin.FlagModel, get func(string) *kingpin.FlagClause) {
		for _, m := range flags {
			if keepValue(m) {
				continue
			}
			name := "--" + m.Name
			if m.Short != 0 {
				name = fmt.Sprintf("-%c, %s", m.Short, name)
			}
			get(m.Name).SetValue(namedValue{name: name, Value: m.Value})
		}
	}
	wrap(app.Model().Flags, app.GetFlag)
	for _, c := range app.Model().Commands {
		wrap(c.Flags, app.GetCommand(c.Name).GetFlag)
	}
}

// keepValue reports whether flag m's value must stay kingpin's own.
func keepValue(m *kingpin.FlagModel) bool {
	if _, repeatable := m.Value.(interface{ IsCumulative() bool }); repeatable || m.IsBoolFlag() {
		return true
	}
	g, ok := m.Value.(kingpin.Getter)
	if !ok {
		return false
	}
	_, isString := g.Get().(string)
	return isString
}

// checkBoolFlagValues returns an error naming the flag if args give a
// boolean flag of app or of its commands a value (--json=true). kingpin
// takes no value for a boolean flag: it would read the value as the next
// argument and report the real one as unexpected ("unexpected
// 127.0.0.1:4000"), naming neither the flag nor what to write instead.
func checkBoolFlagValues(app *kingpin.Application, args []string) error {
	bools := map[string]bool{}
	add := func(flags []*kingpin.FlagModel) {
		for _, m := range flags {
			if m.IsBoolFlag() {
				bools[m.Name] = true
			}
		}
	}
	add(app.Model().Flags)
	for _, c := range app.Model().Commands {
		add(c.Flags)
	}
	for _, arg := range args {
		if arg == "--" {
			break
		}
		name, _, ok := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if !ok || !strings.HasPrefix(arg, "--") {
			continue
		}
		name = strings.TrimPrefix(name, "no-")
		if bools[name] {
			return fmt.Errorf("--%s: a boolean flag takes no value: write --%s or --no-%s", name, name, name)
		}
	}
	return nil
}

// joinNegativeValues returns args with each negative number given to a
// flag of app or of its commands as its own argument (-c -1, --count -1)
// joined to the flag (--count=-1), so that the flag's value reports it
// ("-c, --count: "-1": out of range ..."). kingpin reads an argument that
// starts with - as a flag, and said only "expected argument for flag
// '-c'"; no flag of ours is named by a digit, so the join takes nothing
// that could be a flag.
func joinNegativeValues(app *kingpin.Application, args []string) []string {
	long := map[string]bool{}
	short := map[string]string{}
	add := func(flags []*kingpin.FlagModel) {
		for _, m := range flags {
			if m.IsBoolFlag() {
				continue
			}
			long[m.Name] = true
			if m.Short != 0 {
				short[string(m.Short)] = m.Name
			}
		}
	}
	add(app.Model().Flags)
	for _, c := range app.Model().Commands {
		add(c.Flags)
	}
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return append(out, args[i:]...)
		}
		name, isShort := short[strings.TrimPrefix(arg, "-")]
		if !isShort || len(arg) != 2 {
			name = strings.TrimPrefix(arg, "--")
			if !strings.HasPrefix(arg, "--") || !long[name] {
				name = ""
			}
		}
		if name != "" && i+1 < len(args) && isNegativeNumber(args[i+1]) {
			out = append(out, "--"+name+"="+args[i+1])
			i++
			continue
		}
		out = append(out, arg)
	}
	return out
}

// isNegativeNumber reports whether s reads as a negative number, a
// duration included: a minus and then a digit or a point.
func isNegativeNumber(s string) bool {
	return len(s) >= 2 && s[0] == '-' && (s[1] == '.' || s[1] >= '0' && s[1] <= '9')
}

// parseNetworks parses --echo.allowed-network values.
func parseNetworks(cidrs []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("--echo.allowed-network %q: %w", c, err)
		}
		out = append(out, p) // the echo server normalises prefixes
	}
	return out, nil
}
