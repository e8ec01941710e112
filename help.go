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
	"strings"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"

	"github.com/tcpping/tcpping_exporter/internal/history"
)

// maxHistory is history.MaxSpan as --web.history's help and errors say
// it: 168h rather than 168h0m0s.
var maxHistory = fmt.Sprintf("%gh", history.MaxSpan.Hours())

// kingpinManHeader is the .TH line of kingpin's man page template: it
// gives the --version text, several lines, where man(7) wants one line,
// so that the build details became the page's first lines of text.
const kingpinManHeader = `.TH {{.App.Name}} 1 {{.App.Version}} "{{.App.Author}}"`

// setManPageHeader makes --help-man's .TH line one line: the page's name
// and section, the build date, and the name with the short version
// ("tcpping_exporter 0.5.0") as its source, as man(7) orders them.
func setManPageHeader() {
	v := version.Version
	if v == "" {
		v = "unknown" // a build without the release's ldflags
	}
	th := fmt.Sprintf(".TH {{.App.Name}} 1 %q %q", version.BuildDate, "tcpping_exporter "+v)
	kingpin.ManPageTemplate = strings.Replace(kingpin.ManPageTemplate, kingpinManHeader, th, 1)
}

// kingpinCommandUsage is how kingpin's templates end the usage line of an
// application with commands: as if a command were required. The exporter
// runs without one (ping is the only command), so the line says so.
const kingpinCommandUsage = "{{if .Commands}} <command> [<args> ...]"

// setOptionalCommandUsage makes the usage line of app's --help,
// --help-long and --help-man read "[<command>]". kingpin reads the latter
// two templates when their flag is given, and gave app the first when it
// was made.
func setOptionalCommandUsage(app *kingpin.Application) {
	for _, t := range []*string{&kingpin.DefaultUsageTemplate, &kingpin.LongHelpTemplate, &kingpin.ManPageTemplate} {
		*t = strings.ReplaceAll(*t, kingpinCommandUsage, "{{if .Commands}} [<command>] [<args> ...]")
	}
	app.UsageTemplate(kingpin.DefaultUsageTemplate)
}
