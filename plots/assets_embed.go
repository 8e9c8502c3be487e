//go:build embedcharts

package plots

import _ "embed"

// Built with -tags embedcharts (after scripts/setup's npm ci in plots/js),
// the binary carries the pinned ECharts bundles and needs no checkout to
// write charts. They are not committed: the tag is what takes them in.
var (
	//go:embed js/node_modules/echarts/dist/echarts.min.js
	embeddedECharts []byte
	//go:embed js/node_modules/echarts-gl/dist/echarts-gl.min.js
	embeddedEChartsGL []byte
)
