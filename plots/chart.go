package plots

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// Chart is one interactive chart. It renders as a standalone HTML page
// (Render) or as a fragment for a notebook cell (Snippet); either way the
// ECharts bundles are inlined, so nothing is fetched when it is viewed.
type Chart struct {
	// Title is shown above the chart and used as the page title.
	Title string
	// Height of the drawing area in CSS pixels.
	Height int
	// MaxWidth, if positive, caps the width of the chart in CSS pixels.
	MaxWidth int

	kind    string // heatmap, echarts (a plain option) or projector
	gl      bool   // needs ECharts GL
	payload payload
}

// payload is what the page's script reads back: the ECharts option built with
// go-echarts (heatmaps, bars, lines) or the projector's data.
type payload struct {
	Kind   string          `json:"kind"`
	Option json.RawMessage `json:"option,omitempty"`
	Meta   any             `json:"meta,omitempty"`
	Data   any             `json:"data,omitempty"`
}

//go:embed runtime.js
var runtimeJS string

//go:embed style.css
var styleCSS string

// pageCSS is the layout the whole pages share (report.html, the
// robustness and subspace pages), after styleCSS.
//
//go:embed page.css
var pageCSS string

// newID returns a fresh element id, unique across calls and processes.
func newID(kind string) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return "layersim-" + kind + "-" + hex.EncodeToString(b[:])
}

// libraryScripts returns the <script> elements that load ECharts (and ECharts
// GL) unless the page has them already. RequireJS, as Jupyter Notebook 6 and
// nbconvert pages carry it, defines define.amd, which makes the UMD bundles
// register as anonymous AMD modules instead of setting window.echarts: define
// is hidden while they run.
func libraryScripts(a *assets, gl bool) string {
	var b strings.Builder
	b.WriteString("<script>\nif (!window.echarts || !window.echarts.version || +window.echarts.version.split('.')[0] < 5) {\n" +
		"var __layersimDefine = window.define; window.define = undefined;\ntry {\n")
	b.Write(a.echarts)
	b.WriteString("\n} finally { window.define = __layersimDefine; }\n}\n</script>\n")
	if gl {
		b.WriteString("<script>\nif (window.__layersimEchartsGL !== window.echarts) {\n" +
			"var __layersimDefine = window.define; window.define = undefined;\ntry {\n")
		b.Write(a.gl)
		b.WriteString("\nwindow.__layersimEchartsGL = window.echarts;\n} finally { window.define = __layersimDefine; }\n}\n</script>\n")
	}
	b.WriteString("<script>\nif (!window.LayersimPlots) {\n")
	b.WriteString(inlineSafeString(runtimeJS))
	b.WriteString("\n}\n</script>\n")
	return b.String()
}

func inlineSafeString(s string) string { return string(inlineSafe([]byte(s))) }

// fragment returns the chart's element, its data and the call that draws it.
// The call finds the element by a data attribute rather than by id alone, so a
// fragment inserted twice into one page draws twice.
func (c *Chart) fragment(id string, lazy bool) (string, error) {
	data, err := json.Marshal(c.payload) // escapes <, > and &: safe inside <script>
	if err != nil {
		return "", fmt.Errorf("plots: %s: %w", c.Title, err)
	}
	h := c.Height
	if h <= 0 {
		h = 420
	}
	var b strings.Builder
	style := ""
	if c.MaxWidth > 0 {
		style = fmt.Sprintf(` style="max-width:%dpx"`, c.MaxWidth)
	}
	fmt.Fprintf(&b, `<div class="layersim-chart layersim-%s" id="%s" data-layersim-chart="%s"%s>`, c.kind, id, id, style)
	if c.Title != "" {
		fmt.Fprintf(&b, `<div class="layersim-title">%s</div>`, template.HTMLEscapeString(c.Title))
	}
	fmt.Fprintf(&b, `<div class="layersim-canvas" style="height:%dpx"></div>`, h)
	fmt.Fprintf(&b, `<script type="application/json" class="layersim-data">%s</script>`, data)
	fmt.Fprintf(&b, `<script>LayersimPlots.mount(%q, {lazy: %t});</script>`, id, lazy)
	b.WriteString("</div>\n")
	return b.String(), nil
}

// Snippet returns the chart as an HTML fragment for a notebook cell (for
// example gonb's gonbui.DisplayHTML). The fragment carries the ECharts bundles
// and loads them only once per page, works under RequireJS (Jupyter Notebook
// 6, nbconvert) and gets fresh element ids on every call.
func (c *Chart) Snippet() (string, error) {
	a, err := loadAssets()
	if err != nil {
		return "", err
	}
	frag, err := c.fragment(newID(c.kind), false)
	if err != nil {
		return "", err
	}
	return "<style>" + styleCSS + "</style>\n" + libraryScripts(a, c.gl) + frag, nil
}

// Render writes the chart as a standalone HTML page.
func (c *Chart) Render(w io.Writer) error {
	a, err := loadAssets()
	if err != nil {
		return err
	}
	frag, err := c.fragment(newID(c.kind), false)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n<style>%s</style>\n%s</head>\n<body class=\"layersim-page\">\n%s</body>\n</html>\n",
		template.HTMLEscapeString(c.Title), styleCSS, libraryScripts(a, c.gl), frag)
	_, err = w.Write(b.Bytes())
	return err
}
