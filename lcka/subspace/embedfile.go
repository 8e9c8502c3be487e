package subspace

import (
	"fmt"
	"math"
)

// EmbeddingFile is the JSON form of a Joint (what `layersim subspace
// --embed-dir` writes), with the labels that say what it is of.
type EmbeddingFile struct {
	Model    string    `json:"model"`    // the model's folder name
	ModelID  string    `json:"model_id"` // its Hugging Face id
	Langs    [2]string `json:"langs"`    // the differences are Langs[0] − Langs[1]
	Split    string    `json:"split"`
	Measure  string    `json:"measure"` // the CKA measure of the joint matrices
	Method   string    `json:"method"`  // the embedding: "uncentered" (analyze's) or "classical-mds"
	N        int       `json:"n"`
	CrossFit bool      `json:"cross_fit"`
	Seed     *uint64   `json:"seed,omitempty"` // the seed of the halves, when cross-fitted
	// Layers are the layer numbers; each map's rows are these layers in
	// Langs[0], then in Langs[1].
	Layers []int `json:"layers"`
	// Before is the map before the removal; After[k] the one with R[k]
	// directions removed, rotated onto Before.
	Before EmbeddingMap   `json:"before"`
	After  []EmbeddingMap `json:"after"`
}

// EmbeddingMap is one JointMap in JSON.
type EmbeddingMap struct {
	R           int           `json:"r"`
	XYZ         [][3]float64  `json:"xyz"`      // 2L rows, after the rotation
	Rotation    [3][3]float64 `json:"rotation"` // Q: xyz = embedding · Q
	Eigenvalues []float64     `json:"eigenvalues"`
	Explained   []float64     `json:"explained"`
	// CKA holds the joint matrix's cross-lingual entries: CKA[k] between
	// layer k in one language and layer k in the other.
	CKA              []float64 `json:"cka_per_layer"`
	PairDistance     []float64 `json:"pair_distance"`
	MeanPairDistance float64   `json:"mean_pair_distance"`
	Eta2             float64   `json:"eta2"`
	// Joint is the whole 2L × 2L CKA matrix.
	Joint [][]float64 `json:"joint_cka"`
}

// File returns j in JSON form with the given labels (the map fields are
// set from j). The embedding must have 3 dimensions.
func (j *Joint) File(labels EmbeddingFile) (*EmbeddingFile, error) {
	f := labels
	if len(f.Layers) != j.Layers {
		return nil, fmt.Errorf("subspace: %d layer numbers for %d layers", len(f.Layers), j.Layers)
	}
	var err error
	if f.Before, err = j.Before.mapJSON(j.Layers); err != nil {
		return nil, err
	}
	f.After = nil
	for _, m := range j.After {
		em, err := m.mapJSON(j.Layers)
		if err != nil {
			return nil, err
		}
		f.After = append(f.After, em)
	}
	return &f, nil
}

func (m *JointMap) mapJSON(l int) (EmbeddingMap, error) {
	rows, dims := m.Coords.Dims()
	if dims != 3 || rows != 2*l {
		return EmbeddingMap{}, fmt.Errorf("subspace: a %d×%d embedding; the file holds 3D ones of 2L = %d rows", rows, dims, 2*l)
	}
	e := EmbeddingMap{R: m.R, Eigenvalues: m.Eigenvalues, Explained: m.Explained, PairDistance: m.PairDistance,
		MeanPairDistance: m.MeanPairDistance, Eta2: m.Eta2}
	for i := 0; i < rows; i++ {
		e.XYZ = append(e.XYZ, [3]float64{m.Coords.At(i, 0), m.Coords.At(i, 1), m.Coords.At(i, 2)})
		row := make([]float64, rows)
		for k := range row {
			row[k] = m.CKA.At(i, k)
		}
		e.Joint = append(e.Joint, row)
	}
	for i := 0; i < 3; i++ {
		for k := 0; k < 3; k++ {
			e.Rotation[i][k] = m.Rotation.At(i, k)
		}
	}
	for k := 0; k < l; k++ {
		e.CKA = append(e.CKA, m.CKA.At(k, l+k))
	}
	return e, nil
}

// Check checks that f is whole: two different languages, layers, and maps
// of 2L finite rows with a value per layer.
func (f *EmbeddingFile) Check() error {
	if f == nil {
		return fmt.Errorf("subspace: no embedding file")
	}
	if f.Langs[0] == "" || f.Langs[1] == "" || f.Langs[0] == f.Langs[1] {
		return fmt.Errorf("subspace: embedding file: languages %q; want two different ones", f.Langs)
	}
	l := len(f.Layers)
	if l == 0 {
		return fmt.Errorf("subspace: embedding file: no layers")
	}
	for i, m := range append([]EmbeddingMap{f.Before}, f.After...) {
		what := "before"
		if i > 0 {
			what = fmt.Sprintf("after r = %d", m.R)
		}
		if len(m.XYZ) != 2*l || len(m.CKA) != l || len(m.PairDistance) != l {
			return fmt.Errorf("subspace: embedding file, %s: %d points, %d CKA values and %d distances for %d layers in 2 languages",
				what, len(m.XYZ), len(m.CKA), len(m.PairDistance), l)
		}
		vals := append(append([]float64{m.MeanPairDistance, m.Eta2}, m.CKA...), m.PairDistance...)
		for _, p := range m.XYZ {
			vals = append(vals, p[:]...)
		}
		for _, v := range vals {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("subspace: embedding file, %s: value %v", what, v)
			}
		}
	}
	return nil
}
