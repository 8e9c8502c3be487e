package study

import (
	"testing"

	"github.com/layersim/layersim/internal/testenv"
	"github.com/layersim/layersim/lcka/backend"
	"github.com/layersim/layersim/lcka/internal/grampanel"
)

// TestAnalyzeUsesHostKernel: on the Go backend as the command line makes it
// (lcka/backend), the study's Gram matrices (the CKA engine's, RSA's and
// RSA's rank product) come from the host kernel where the CPU has it.
func TestAnalyzeUsesHostKernel(t *testing.T) {
	if !grampanel.Host() {
		if testenv.CPUListsFlags("avx512f") || testenv.CPUListsFlags("avx2", "fma") {
			testenv.Missing(t, "the CPU lists AVX-512F or AVX2 and FMA but the host Gram kernel is off")
			return
		}
		t.Skip("neither AVX-512 nor AVX2 on this CPU: the GoMLX panels serve")
	}
	spec, err := backend.Parse("go")
	if err != nil {
		t.Fatal(err)
	}
	b, err := backend.New(spec, "")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	writeModel(t, root, "model-a", 3, 12, 40, 40, true, 1)
	before := grampanel.FullCalls()
	if _, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1, Backend: b}); err != nil {
		t.Fatal(err)
	}
	// 2 languages × 3 layers for CKA, as many for RSA, one rank product.
	if got := grampanel.FullCalls() - before; got < 13 {
		t.Errorf("%d Gram matrices on the host kernel, want 13", got)
	}
}
