package plots

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/study"

	"github.com/layersim/layersim/internal/testenv"
)

// synthModel writes the activations of one synthetic model in English and
// Hindi: each layer is a random linear map of five latent factors per prompt
// plus noise that grows with depth. When related, both languages share the
// latent factors (high cross-lingual CKA); otherwise Hindi draws its own.
func synthModel(root, slug string, layers, dim, n int, related bool, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 11))
	latent := map[string][]float64{}
	for _, lang := range []string{"en", "hi"} {
		if lang == "hi" && related {
			latent[lang] = latent["en"]
			continue
		}
		z := make([]float64, n*5)
		for i := range z {
			z[i] = rng.NormFloat64()
		}
		latent[lang] = z
	}
	maps := make([][]float64, layers) // shared by both languages
	for k := range maps {
		maps[k] = make([]float64, 5*dim)
		for i := range maps[k] {
			maps[k][i] = rng.NormFloat64()
		}
	}
	for _, lang := range []string{"en", "hi"} {
		var ms []artifacts.Matrix
		for k := 0; k < layers; k++ {
			data := make([]float32, n*dim)
			for i := 0; i < n; i++ {
				for j := 0; j < dim; j++ {
					v := 0.0
					for q := 0; q < 5; q++ {
						v += latent[lang][i*5+q] * maps[k][q*dim+j]
					}
					data[i*dim+j] = float32(v + (0.3+0.4*float64(k))*rng.NormFloat64())
				}
			}
			ms = append(ms, artifacts.Matrix{Rows: n, Cols: dim, Data: data})
		}
		meta := artifacts.Meta{ModelID: "org/" + slug, NumLayers: layers, Dtype: "float32", MaxLength: 128, TextsCount: n, Subset: "synthetic"}
		if err := artifacts.Write(root, meta, slug, lang, "test", ms, nil); err != nil {
			return err
		}
	}
	return nil
}

var (
	synthOnce sync.Once
	synthDir  string
	synthErr  error
)

// synthResults returns a results folder written by study.Analyze and
// study.Write on three synthetic models (6, 4 and 5 layers; the second with
// unrelated languages). It is built once per test run.
func synthResults(t testing.TB) string {
	t.Helper()
	synthOnce.Do(func() {
		dir, err := os.MkdirTemp("", "layersim-plots-test-")
		if err != nil {
			synthErr = err
			return
		}
		synthDir = dir
		root := filepath.Join(dir, "artifacts")
		for i, m := range []struct {
			slug        string
			layers, dim int
			related     bool
		}{{"alpha-small", 6, 16, true}, {"beta-tiny", 4, 12, false}, {"gamma-mid", 5, 20, true}} {
			if err := synthModel(root, m.slug, m.layers, m.dim, 36, m.related, uint64(i+1)); err != nil {
				synthErr = err
				return
			}
		}
		res, err := study.Analyze(study.Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: 50, Permutations: 50, Seed: 3})
		if err != nil {
			synthErr = err
			return
		}
		synthErr = study.Write(filepath.Join(dir, "results"), res)
	})
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	return filepath.Join(synthDir, "results")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if synthDir != "" {
		os.RemoveAll(synthDir)
	}
	os.Exit(code)
}

func loadSynth(t testing.TB) *Results {
	t.Helper()
	r, err := LoadResults(synthResults(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// needAssets skips the test when the ECharts bundles are not installed.
func needAssets(t testing.TB) {
	t.Helper()
	if _, err := loadAssets(); err != nil {
		testenv.Missing(t, "%v", err)
	}
}

var (
	dataRe      = regexp.MustCompile(`<div class="layersim-chart layersim-(\w+)" id="([^"]+)" data-layersim-chart="([^"]+)"(?: style="[^"]*")?>(?:<div class="layersim-title">[^<]*</div>)?<div class="layersim-canvas"[^>]*></div><script type="application/json" class="layersim-data">([^<]*)</script>`)
	mountRe     = regexp.MustCompile(`LayersimPlots\.mount\("([^"]+)"`)
	dataTitleRe = regexp.MustCompile(`<div class="layersim-title">([^<]*)</div>`)
)

// embedded is one chart found in a page: its ids and its payload as JSON.
type embedded struct {
	kind, id, attr string
	payload        json.RawMessage
}

// charts returns the charts embedded in an HTML page or fragment.
func chartsIn(t testing.TB, html string) []embedded {
	t.Helper()
	var out []embedded
	for _, m := range dataRe.FindAllStringSubmatch(html, -1) {
		if !json.Valid([]byte(m[4])) {
			t.Fatalf("chart %s: payload is not valid JSON", m[2])
		}
		out = append(out, embedded{kind: m[1], id: m[2], attr: m[3], payload: json.RawMessage(m[4])})
	}
	return out
}

// decodePayload decodes a chart payload into v.
func decodePayload(t testing.TB, e embedded, v any) {
	t.Helper()
	if err := json.Unmarshal(e.payload, v); err != nil {
		t.Fatalf("chart %s: %v", e.id, err)
	}
}

// chartOK returns a function that fails the test on a chart builder's error:
// chartOK(t)(Projector(m)).
func chartOK(t testing.TB) func(*Chart, error) *Chart {
	return func(c *Chart, err error) *Chart {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

func briefJSON(v any) string { b, _ := json.Marshal(v); return fmt.Sprintf("%.200s", b) }
