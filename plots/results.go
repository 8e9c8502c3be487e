package plots

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/layersim/layersim/lcka/study"
)

// Results is a results folder as the analysis job writes it.
type Results struct {
	Metrics  study.Metrics
	Heatmaps []study.Heatmap // sorted by kind (within-model, cross-lingual, cross-model), then file name
}

// maxJSON bounds the size of one JSON file read from a results folder.
const maxJSON = 1 << 30

// LoadResults reads metrics.json and heatmaps/*.json from dir. A missing
// heatmaps folder is not an error.
func LoadResults(dir string) (*Results, error) {
	b, err := readLimited(filepath.Join(dir, "metrics.json"))
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	m, err := ParseMetrics(b)
	if err != nil {
		return nil, fmt.Errorf("plots: %s: %w", filepath.Join(dir, "metrics.json"), err)
	}
	r := &Results{Metrics: *m}
	files, err := filepath.Glob(filepath.Join(dir, "heatmaps", "*.json"))
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	for _, f := range files {
		b, err := readLimited(f)
		if err != nil {
			return nil, fmt.Errorf("plots: %w", err)
		}
		h, err := ParseHeatmap(b)
		if err != nil {
			return nil, fmt.Errorf("plots: %s: %w", f, err)
		}
		h.File = filepath.Base(f)
		r.Heatmaps = append(r.Heatmaps, *h)
	}
	sort.SliceStable(r.Heatmaps, func(i, j int) bool {
		a, b := r.Heatmaps[i], r.Heatmaps[j]
		if ka, kb := kindRank(a.Info.Kind), kindRank(b.Info.Kind); ka != kb {
			return ka < kb
		}
		return a.File < b.File
	})
	return r, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxJSON+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxJSON {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxJSON)
	}
	return b, nil
}

func kindRank(kind string) int {
	switch kind {
	case "within-model":
		return 0
	case "cross-lingual":
		return 1
	case "cross-model":
		return 2
	}
	return 3
}

// decodeStrict decodes one JSON value, refusing trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// ParseMetrics decodes metrics.json and checks that it hangs together: the
// joint embedding has a coordinate per row, the rows and pairs name listed
// models and languages, and each pair has a value per layer.
func ParseMetrics(b []byte) (*study.Metrics, error) {
	var m study.Metrics
	if err := decodeStrict(b, &m); err != nil {
		return nil, err
	}
	if len(m.Models) == 0 {
		return nil, errors.New("no models")
	}
	if len(m.Languages) == 0 {
		return nil, errors.New("no languages")
	}
	if _, err := NewProjectorData(&m); err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "plots: "))
	}
	for _, p := range m.Pairs {
		nA := len(layerNumbers(&m, p.Model, p.LangA))
		for _, v := range []struct {
			name string
			n    int
		}{{"cka_to_last_layer_a", len(p.CKALastLayer)}, {"cka_to_last_layer_b", len(p.CKALastLayerB)}} {
			if v.n != nA {
				return nil, fmt.Errorf("pair %s %s–%s: %s has %d values for %d layers", p.Model, p.LangA, p.LangB, v.name, v.n, nA)
			}
		}
		if len(p.RSAPerLayer) != 0 && len(p.RSAPerLayer) != nA {
			return nil, fmt.Errorf("pair %s %s–%s: rsa_per_layer has %d values for %d layers", p.Model, p.LangA, p.LangB, len(p.RSAPerLayer), nA)
		}
		for k, d := range p.D3PerLayer {
			if d < 0 {
				return nil, fmt.Errorf("pair %s %s–%s: negative distance %g at layer index %d", p.Model, p.LangA, p.LangB, d, k)
			}
		}
		vals := append(append(append([]float64{p.CKAMean, p.CKAMedian, p.CKAMin, p.D3Mean, p.D3Median, p.D3Max},
			p.CKALastLayer...), p.CKALastLayerB...), p.RSAPerLayer...)
		for _, v := range []*float64{p.ProcrustesRes, p.ProcrustesRel, p.ProcrustesSignatureRes, p.ProcrustesSignatureRel} {
			if v != nil { // null where the measure's matrix is not a Gram matrix
				vals = append(vals, *v)
			}
		}
		if err := finite(vals...); err != nil {
			return nil, fmt.Errorf("pair %s %s–%s: %w", p.Model, p.LangA, p.LangB, err)
		}
	}
	if d := m.LanguageDiscriminant; d != nil {
		if err := checkDiscriminant(d); err != nil {
			return nil, err
		}
	}
	for _, lm := range m.LanguageMatrices {
		if err := checkLanguageMatrix(lm); err != nil {
			return nil, err
		}
	}
	for _, d := range m.Depth {
		if err := checkDepth(d, MeasureName(&m)); err != nil {
			return nil, err
		}
	}
	return &m, nil
}

// checkDepth checks that a depth map has a value per layer, both interval
// bounds or neither, finite values, and change points at its layers;
// measure names the values (MeasureName).
func checkDepth(d study.Depth, measure string) error {
	L := len(d.Layers)
	where := fmt.Sprintf("depth map %s %s–%s", d.Model, d.Langs[0], d.Langs[1])
	if L == 0 || len(d.CKA) != L {
		return fmt.Errorf("%s: %d %s values for %d layers", where, len(d.CKA), measure, L)
	}
	if (d.Lo == nil) != (d.Hi == nil) || d.Lo != nil && (len(d.Lo) != L || len(d.Hi) != L) {
		return fmt.Errorf("%s: interval bounds of %d and %d values for %d layers", where, len(d.Lo), len(d.Hi), L)
	}
	if err := finite(append(append(append([]float64(nil), d.CKA...), d.Lo...), d.Hi...)...); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	for _, cp := range d.ChangePoints {
		if cp.Index <= 0 || cp.Index >= L || d.Layers[cp.Index] != cp.Layer {
			return fmt.Errorf("%s: change point at layer %d (position %d) is not one of its layers after the first", where, cp.Layer, cp.Index)
		}
		if err := finite(cp.Effect, cp.Gain, cp.Threshold, cp.EffectCI95[0], cp.EffectCI95[1]); err != nil {
			return fmt.Errorf("%s: change point at layer %d: %w", where, cp.Layer, err)
		}
	}
	return nil
}

// ParseHeatmap decodes one heatmap JSON and checks its shape.
func ParseHeatmap(b []byte) (*study.Heatmap, error) {
	var h study.Heatmap
	if err := decodeStrict(b, &h); err != nil {
		return nil, err
	}
	if _, _, err := checkHeatmap(h); err != nil {
		return nil, err
	}
	return &h, nil
}
