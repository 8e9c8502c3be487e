package rsa

import (
	"fmt"
	"strings"
)

// Dissimilarity selects how a representation is turned into an RDM.
type Dissimilarity int

const (
	// Cosine is 1 − cos(x_i, x_j) of the rows x_i, x_j.
	Cosine Dissimilarity = iota + 1
	// Correlation is 1 − Pearson correlation of the rows, that is the
	// cosine dissimilarity of the rows after centering each row across
	// its features.
	Correlation
	// Euclidean is the squared Euclidean distance ‖x_i − x_j‖².
	Euclidean
)

var dissimilarityNames = map[Dissimilarity]string{
	Cosine:      "cosine",
	Correlation: "correlation",
	Euclidean:   "euclidean",
}

// String returns the name accepted by ParseDissimilarity.
func (d Dissimilarity) String() string {
	if s, ok := dissimilarityNames[d]; ok {
		return s
	}
	return fmt.Sprintf("Dissimilarity(%d)", int(d))
}

func (d Dissimilarity) valid() bool {
	_, ok := dissimilarityNames[d]
	return ok
}

// ParseDissimilarity parses "cosine", "correlation" or "euclidean".
func ParseDissimilarity(s string) (Dissimilarity, error) {
	for d, name := range dissimilarityNames {
		if s == name {
			return d, nil
		}
	}
	return 0, fmt.Errorf("rsa: unknown dissimilarity %q (want cosine, correlation or euclidean)", s)
}

// Comparison selects how two RDMs are compared.
type Comparison int

const (
	// Spearman is the Spearman rank correlation of the RDMs' upper
	// triangles (ranks with ties averaged).
	Spearman Comparison = iota + 1
	// Pearson is the Pearson correlation of the RDMs' upper triangles.
	Pearson
	// KendallTauA is Kendall's τ_a of the RDMs' upper triangles.
	KendallTauA
)

var comparisonNames = map[Comparison]string{
	Spearman:    "spearman",
	Pearson:     "pearson",
	KendallTauA: "kendall-tau-a",
}

// String returns the name accepted by ParseComparison.
func (c Comparison) String() string {
	if s, ok := comparisonNames[c]; ok {
		return s
	}
	return fmt.Sprintf("Comparison(%d)", int(c))
}

func (c Comparison) valid() bool {
	_, ok := comparisonNames[c]
	return ok
}

// ParseComparison parses "spearman", "pearson" or "kendall-tau-a". The
// prefix "rsa-" is accepted as well, so "rsa-spearman" parses as Spearman.
func ParseComparison(s string) (Comparison, error) {
	name := strings.TrimPrefix(s, methodPrefix)
	for c, n := range comparisonNames {
		if name == n {
			return c, nil
		}
	}
	return 0, fmt.Errorf("rsa: unknown comparison %q (want spearman, pearson or kendall-tau-a, optionally prefixed by %q)", s, methodPrefix)
}

const methodPrefix = "rsa-"

// Method is an RSA method: a dissimilarity for the RDMs and a comparison
// between RDMs.
type Method struct {
	Dissimilarity Dissimilarity
	Comparison    Comparison
}

// String returns the method's name in the form accepted by ParseMethod,
// for example "rsa-spearman:cosine".
func (m Method) String() string {
	return methodPrefix + m.Comparison.String() + ":" + m.Dissimilarity.String()
}

// ParseMethod parses a method name of the form
// "rsa-<comparison>:<dissimilarity>", for example "rsa-spearman:cosine" or
// "rsa-kendall-tau-a:euclidean".
func ParseMethod(s string) (Method, error) {
	if !strings.HasPrefix(s, methodPrefix) {
		return Method{}, fmt.Errorf("rsa: method %q does not start with %q (want e.g. rsa-spearman:cosine)", s, methodPrefix)
	}
	cmpName, disName, ok := strings.Cut(s, ":")
	if !ok {
		return Method{}, fmt.Errorf("rsa: method %q has no ':<dissimilarity>' part (want e.g. rsa-spearman:cosine)", s)
	}
	c, err := ParseComparison(cmpName)
	if err != nil {
		return Method{}, err
	}
	d, err := ParseDissimilarity(disName)
	if err != nil {
		return Method{}, err
	}
	return Method{Dissimilarity: d, Comparison: c}, nil
}
