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

package e2e

import (
	"fmt"
	"strings"
)

// selfFlows is the number of flows of flowsConfig's target self-flows.
const selfFlows = 4

// flowsConfig is selfConfig plus a target of several flows on the same
// echo port, self-flows: the README's, the dashboard's and the rules'
// queries of flows need one to return data.
func flowsConfig(echoPort int) string {
	cfg, ok := strings.CutSuffix(selfConfig(echoPort), "targets:\n"+
		fmt.Sprintf("  - name: self\n    address: 127.0.0.1:%d\n    labels: {site: local}\n", echoPort))
	if !ok {
		panic("selfConfig changed: flowsConfig cannot extend it")
	}
	return cfg + fmt.Sprintf(`  ecmp:
    interval: 100ms
    flows: %d
targets:
  - name: self
    address: 127.0.0.1:%d
    labels: {site: local}
  - name: self-flows
    address: 127.0.0.1:%d
    module: ecmp
    labels: {site: local}
`, selfFlows, echoPort, echoPort)
}
