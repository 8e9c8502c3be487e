//go:build !embedcharts

package plots

// Without -tags embedcharts the bundles are read from disk (loadAssets).
var embeddedECharts, embeddedEChartsGL []byte
