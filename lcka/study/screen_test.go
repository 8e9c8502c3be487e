package study

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/layersim/layersim/internal/testenv"
)

// requirePermAsm skips where the CPU lacks the permutation kernels (the
// plain Go ones run there, and TestResamplerMatchesGather covers them); on
// a CPU that lists AVX-512BW it fails under CI, as the kernels must run.
func requirePermAsm(t *testing.T) {
	t.Helper()
	if permAsm {
		return
	}
	if testenv.CPUListsFlags("avx512f", "avx512bw") {
		testenv.Missing(t, "the CPU lists AVX-512BW but the permutation kernels are off")
		return
	}
	t.Skip("no AVX-512BW on this CPU: no bfloat16 screen")
}

// widen returns the float32 value of bfloat16 bits.
func widen(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

func TestBfloat16Rounding(t *testing.T) {
	for _, c := range []struct {
		in   float32
		want uint16
	}{
		{1, 0x3f80},
		{math.Float32frombits(0x3f808000), 0x3f80}, // halfway, to even (down)
		{math.Float32frombits(0x3f818000), 0x3f82}, // halfway, to even (up)
		{math.Float32frombits(0x3f808001), 0x3f81}, // above halfway
		{-2.5, 0xc020},
		{0, 0},
	} {
		if got := bfloat16(c.in); got != c.want {
			t.Errorf("bfloat16(%g) = %#x, want %#x", c.in, got, c.want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		v := float32(rng.NormFloat64() * math.Pow(10, rng.Float64()*8-4))
		if d := math.Abs(float64(widen(bfloat16(v)) - v)); d > math.Ldexp(math.Abs(float64(v)), -8) {
			t.Fatalf("bfloat16(%g) = %g: off by %g, more than 2⁻⁸ of it", v, widen(bfloat16(v)), d)
		}
	}
}

// TestPermRowAsm: the assembly kernels against permRowGo, in float32 and
// on bfloat16 values (widened), for row widths of one to several passes of
// 64 layers and any number of entries.
func TestPermRowAsm(t *testing.T) {
	requirePermAsm(t)
	rng := rand.New(rand.NewPCG(3, 4))
	const rows = 41
	for _, lp := range []int{16, 32, 48, 64, 80, 144} {
		ka, kb := make([]float32, rows*lp), make([]float32, rows*lp)
		kb16, kbw := make([]uint16, rows*lp), make([]float32, rows*lp)
		for i := range ka {
			ka[i], kb[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			kb16[i] = bfloat16(kb[i])
			kbw[i] = widen(kb16[i])
		}
		for _, m := range []int{1, 2, 7, 37} {
			perm := make([]int32, m)
			for j := range perm {
				perm[j] = int32(rng.IntN(rows))
			}
			for _, c := range []struct {
				name  string
				kb    unsafe.Pointer
				esize int
				ref   []float32
			}{{"float32", unsafe.Pointer(&kb[0]), 4, kb}, {"bfloat16", unsafe.Pointer(&kb16[0]), 2, kbw}} {
				got, want := make([]float32, lp), make([]float32, lp)
				for k := range got {
					got[k] = float32(k) // the kernels add to acc
					want[k] = float32(k)
				}
				permRowAsm(got, ka, c.kb, c.esize, perm, lp)
				permRowGo(want, ka, c.ref, perm, lp)
				for k := range got {
					if math.Abs(float64(got[k]-want[k])) > 1e-5*(1+math.Abs(float64(want[k]))) {
						t.Errorf("%s lp=%d m=%d: acc[%d] = %g, plain Go %g", c.name, lp, m, k, got[k], want[k])
					}
				}
			}
		}
	}
}

// TestPermutedScreen: the bfloat16 screen stays within screenBound of the
// float32 values, for layer counts of one and several kernel passes.
func TestPermutedScreen(t *testing.T) {
	requirePermAsm(t)
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 37
	for _, L := range []int{3, 19, 70} {
		_, a32 := randomGrams(t, rng, n, L, 6)
		_, b32 := randomGrams(t, rng, n, L, 9)
		r := newResampler(a32, b32, n)
		if r.kb16 == nil {
			t.Fatal("no bfloat16 copy of Kb")
		}
		var perms [][]int32
		for range 20 {
			p := make([]int32, n)
			for i, v := range rng.Perm(n) {
				p[i] = int32(v)
			}
			perms = append(perms, p)
		}
		screen, exact := make([]float64, len(perms)), make([]float64, len(perms))
		r.permutedScreen(perms, screen)
		r.permuted(perms, exact)
		differ := false
		for q := range perms {
			d := math.Abs(screen[q] - exact[q])
			if d > screenBound(n) {
				t.Errorf("L=%d permutation %d: screen %.9f, float32 %.9f: off by %g > %g", L, q, screen[q], exact[q], d, screenBound(n))
			}
			differ = differ || d > 0
		}
		if !differ {
			t.Errorf("L=%d: the screen equals the float32 values exactly: is it rounding Kb?", L)
		}
	}
}

// TestPairStatsScreened: the p-value with the bfloat16 screen equals the
// one without, on data whose permuted values crowd the observed one (the
// screen leaves some undecided and they are computed again) and on related
// data (the screen decides every permutation).
func TestPairStatsScreened(t *testing.T) {
	requirePermAsm(t)
	defer func() { screenPermutations = true }()
	rng := rand.New(rand.NewPCG(7, 8))
	const n, L, perms = 30, 4, 400
	_, a32 := randomGrams(t, rng, n, L, 5)
	_, b32 := randomGrams(t, rng, n, L, 7)
	// Kb with its prompts shuffled: unrelated to Ka, so that the observed
	// value sits among the permuted ones.
	sigma := rng.Perm(n)
	shuffled := make([][]float32, L)
	for k, g := range b32 {
		shuffled[k] = make([]float32, n*n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				shuffled[k][i*n+j] = g[sigma[i]*n+sigma[j]]
			}
		}
	}
	for _, c := range []struct {
		name    string
		ka, kb  [][]float32
		recheck bool
	}{{"unrelated", a32, shuffled, true}, {"related", a32, b32, false}, {"identical", a32, a32, false}} {
		screenPermutations = true
		on := pairStats(c.ka, c.kb, n, 0, perms, 3, 0, 1)
		screenPermutations = false
		off := pairStats(c.ka, c.kb, n, 0, perms, 3, 0, 1)
		if on.p != off.p {
			t.Errorf("%s: p = %g with the screen, %g without", c.name, on.p, off.p)
		}
		if off.rechecked != 0 {
			t.Errorf("%s: %d rechecked without the screen", c.name, off.rechecked)
		}
		t.Logf("%s: %d of %d permutations rechecked", c.name, on.rechecked, perms)
		if (on.rechecked > 0) != c.recheck {
			t.Errorf("%s: %d of %d permutations rechecked", c.name, on.rechecked, perms)
		}
	}
}

// TestGenerated: the assembly kernels are what gen_kernels.go writes.
func TestGenerated(t *testing.T) {
	testenv.Generated(t, "gen_kernels.go", "permrow_amd64.s", "bootrow_amd64.s")
}
