package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/embed"
	"github.com/layersim/layersim/lcka/subspace"
	"github.com/layersim/layersim/plots"
)

func init() {
	commands["subspace"] = command{summary: "cross-lingual CKA per layer (and the joint embedding, --embed-dir) before and after removing the top-r directions of the paired differences", run: runSubspace}
}

// subspaceReport is the JSON the subspace command writes.
type subspaceReport struct {
	Artifacts string          `json:"artifacts"`
	Model     string          `json:"model"`
	ModelID   string          `json:"model_id"`
	Langs     [2]string       `json:"langs"`
	Split     string          `json:"split"`
	Measure   string          `json:"measure"`
	N         int             `json:"n"`
	R         []int           `json:"r"`
	CrossFit  bool            `json:"cross_fit"`
	Seed      *uint64         `json:"seed,omitempty"` // the seed of the halves, when cross-fitted
	Layers    []subspaceLayer `json:"layers"`
}

type subspaceLayer struct {
	Layer    int       `json:"layer"`
	Before   float64   `json:"before"`
	After    []float64 `json:"after"`    // After[k]: with R[k] directions removed
	Fraction []float64 `json:"fraction"` // the share of the differences' variance they hold (held-out when cross-fitted)
}

func runSubspace(args []string) error {
	fs := flag.NewFlagSet("subspace", flag.ContinueOnError)
	root := fs.String("artifacts", "", "the artifacts root, holding models/<slug>/<lang>/activations/")
	slug := fs.String("model", "", "the model's folder name under ROOT/models")
	langs := fs.String("langs", "en,hi", "the two languages, comma-separated (the differences are first − second)")
	rList := fs.String("r", "1,2,4", "numbers of directions to remove, comma-separated (0: none)")
	crossFit := fs.Bool("cross-fit", false, "estimate the directions on one half of the prompts and measure the other, both ways, averaged")
	seed := fs.Uint64("seed", 1, "seed of the random halves (--cross-fit)")
	split := fs.String("split", "test", "the split of the activation files")
	measure := fs.String("measure", "cka-standardized", "cka-standardized (the study's), cka or cka-debiased")
	out := fs.String("out", "", "write the results as JSON to this file")
	embedDir := fs.String("embed-dir", "", "also compute the joint embedding of all layers in both languages before and after each removal; write subspace_embedding.json and subspace_embedding.html to this folder")
	classical := fs.Bool("classical", false, "with --embed-dir: classical MDS instead of analyze's uncentered embedding")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *root == "" || *slug == "" {
		fs.Usage()
		return errors.New("--artifacts and --model are required")
	}
	ls := strings.Split(*langs, ",")
	if len(ls) != 2 || ls[0] == "" || ls[1] == "" || ls[0] == ls[1] {
		return fmt.Errorf("--langs %q: want two different languages, e.g. en,hi", *langs)
	}
	rs, err := parseRs(*rList)
	if err != nil {
		return err
	}
	if *classical && *embedDir == "" {
		return errors.New("--classical chooses the embedding of --embed-dir; give --embed-dir too")
	}
	m, err := parseMeasure(*measure)
	if err != nil {
		return err
	}
	fn := map[cka.Measure]subspace.MeasureFunc{
		cka.MeasureStandardized: cka.Standardized, cka.MeasureLinear: cka.Linear, cka.MeasureDebiased: cka.Debiased,
	}[m]
	rep, err := subspaceLayers(*root, *slug, [2]string{ls[0], ls[1]}, *split, rs, *crossFit, *seed, fn)
	if err != nil {
		return err
	}
	rep.Measure = m.String()
	printSubspace(os.Stdout, rep)
	if *out != "" {
		if err := artifacts.WriteJSON(*out, rep); err != nil {
			return err
		}
		fmt.Printf("wrote %s\n", *out)
	}
	if *embedDir != "" {
		return subspaceEmbedding(rep, m, *classical, *embedDir)
	}
	return nil
}

// subspaceEmbedding computes the joint embedding of the report's model
// before and after each removal and writes it as JSON and as a page.
func subspaceEmbedding(rep *subspaceReport, m cka.Measure, classical bool, dir string) error {
	var sets [2]*artifacts.Set
	for i, lang := range rep.Langs {
		s, err := artifacts.Open(rep.Artifacts, rep.Model, lang, rep.Split)
		if err != nil {
			return err
		}
		sets[i] = s
	}
	opt := subspace.JointOptions{CKA: cka.Options{Measure: m}, Embed: embed.Options{Classical: classical}}
	if rep.CrossFit {
		h := subspace.Halves(rep.N, *rep.Seed)
		opt.Halves = &h
	}
	j, err := subspace.JointEmbedding(&artifactLayers{sets: sets}, rep.R, opt)
	if err != nil {
		return fmt.Errorf("joint embedding: %w", err)
	}
	method := "uncentered"
	if classical {
		method = "classical-mds"
	}
	f, err := j.File(subspace.EmbeddingFile{Model: rep.Model, ModelID: rep.ModelID, Langs: rep.Langs, Split: rep.Split,
		Measure: rep.Measure, Method: method, N: rep.N, CrossFit: rep.CrossFit, Seed: rep.Seed, Layers: sets[0].Layers})
	if err != nil {
		return err
	}
	printSeparation(os.Stdout, f)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, "subspace_embedding.json")
	if err := artifacts.WriteJSON(path, f); err != nil {
		return err
	}
	fmt.Printf("wrote %s\n", path)
	page := filepath.Join(dir, "subspace_embedding.html")
	if err := plots.WriteSubspace(f, page); err != nil {
		return err
	}
	fmt.Printf("wrote %s\n", page)
	return nil
}

// printSeparation prints the language separation in the embedding before
// and after each removal.
func printSeparation(w io.Writer, f *subspace.EmbeddingFile) {
	fmt.Fprintf(w, "joint embedding (%s, %d layers in %s and %s): language separation\n", f.Method, len(f.Layers), f.Langs[0], f.Langs[1])
	fmt.Fprintf(w, "%-8s %10s %10s %8s\n", "removed", "CKA mean", "distance", "eta2")
	row := func(name string, em subspace.EmbeddingMap) {
		mean := 0.0
		for _, v := range em.CKA {
			mean += v / float64(len(em.CKA))
		}
		fmt.Fprintf(w, "%-8s %10.4f %10.4f %8.4f\n", name, mean, em.MeanPairDistance, em.Eta2)
	}
	row("none", f.Before)
	for _, em := range f.After {
		row(fmt.Sprintf("r=%d", em.R), em)
	}
}

// artifactLayers serves a model's layers in two languages to
// subspace.JointEmbedding, read from the activation files as they are
// needed (the last pair is kept: the joint matrix asks for each layer of
// one language, then of the other).
type artifactLayers struct {
	sets [2]*artifacts.Set
	last int
	a, b *mat.Dense
}

func (l *artifactLayers) Len() int { return len(l.sets[0].Layers) }

func (l *artifactLayers) Pair(k int) (mat.Matrix, mat.Matrix, error) {
	if l.a != nil && l.last == k {
		return l.a, l.b, nil
	}
	layer := l.sets[0].Layers[k]
	a, err := denseLayer(l.sets[0], layer)
	if err != nil {
		return nil, nil, err
	}
	b, err := denseLayer(l.sets[1], layer)
	if err != nil {
		return nil, nil, err
	}
	l.last, l.a, l.b = k, a, b
	return a, b, nil
}

// parseRs reads "1,2,4": non-negative, distinct.
func parseRs(s string) ([]int, error) {
	var rs []int
	seen := map[int]bool{}
	for _, f := range strings.Split(s, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || r < 0 {
			return nil, fmt.Errorf("--r %q: want non-negative integers, comma-separated", s)
		}
		if seen[r] {
			return nil, fmt.Errorf("--r %q: %d twice", s, r)
		}
		seen[r] = true
		rs = append(rs, r)
	}
	return rs, nil
}

// subspaceLayers runs the subspace curve on every layer of one model's two
// language sets.
func subspaceLayers(root, slug string, langs [2]string, split string, rs []int, crossFit bool, seed uint64, fn subspace.MeasureFunc) (*subspaceReport, error) {
	var sets [2]*artifacts.Set
	for i, lang := range langs {
		s, err := artifacts.Open(root, slug, lang, split)
		if err != nil {
			return nil, err
		}
		sets[i] = s
	}
	a, b := sets[0], sets[1]
	if a.Rows != b.Rows {
		return nil, fmt.Errorf("%s has %d prompts in %s and %d in %s: the rows must be the same prompts", slug, a.Rows, langs[0], b.Rows, langs[1])
	}
	if len(a.Layers) != len(b.Layers) {
		return nil, fmt.Errorf("%s has %d layers in %s and %d in %s", slug, len(a.Layers), langs[0], len(b.Layers), langs[1])
	}
	rep := &subspaceReport{Artifacts: root, Model: slug, ModelID: a.Model, Langs: langs, Split: split, N: a.Rows, R: rs, CrossFit: crossFit}
	var halves [2][]int
	if crossFit {
		rep.Seed = &seed
		halves = subspace.Halves(a.Rows, seed)
	}
	for _, k := range a.Layers {
		if a.Cols[k-1] != b.Cols[k-1] {
			return nil, fmt.Errorf("layer %d has %d columns in %s and %d in %s", k, a.Cols[k-1], langs[0], b.Cols[k-1], langs[1])
		}
		x, err := denseLayer(a, k)
		if err != nil {
			return nil, err
		}
		y, err := denseLayer(b, k)
		if err != nil {
			return nil, err
		}
		var c *subspace.Curve
		if crossFit {
			c, err = subspace.MeasureCrossFit(x, y, rs, halves, fn)
		} else {
			c, err = subspace.Measure(x, y, rs, fn)
		}
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", k, err)
		}
		rep.Layers = append(rep.Layers, subspaceLayer{Layer: k, Before: c.Before, After: c.After, Fraction: c.Fraction})
	}
	return rep, nil
}

func denseLayer(s *artifacts.Set, k int) (*mat.Dense, error) {
	m, err := s.Layer(k)
	if err != nil {
		return nil, err
	}
	return cka.Matrix(m).Dense(), nil
}

func printSubspace(w io.Writer, rep *subspaceReport) {
	how := "directions estimated on all prompts"
	if rep.CrossFit {
		how = fmt.Sprintf("cross-fitted on random halves (seed %d)", *rep.Seed)
	}
	fmt.Fprintf(w, "%s: %s of %s vs %s, n = %d, %s\n", rep.Model, rep.Measure, rep.Langs[0], rep.Langs[1], rep.N, how)
	fmt.Fprintf(w, "%5s %8s", "layer", "before")
	for _, r := range rep.R {
		fmt.Fprintf(w, " %8s", fmt.Sprintf("r=%d", r))
	}
	fmt.Fprint(w, "  variance")
	for _, r := range rep.R {
		fmt.Fprintf(w, " %6s", fmt.Sprintf("r=%d", r))
	}
	fmt.Fprintln(w)
	for _, l := range rep.Layers {
		fmt.Fprintf(w, "%5d %8.4f", l.Layer, l.Before)
		for _, v := range l.After {
			fmt.Fprintf(w, " %8.4f", v)
		}
		fmt.Fprint(w, "          ")
		for _, f := range l.Fraction {
			fmt.Fprintf(w, " %6.3f", f)
		}
		fmt.Fprintln(w)
	}
}
