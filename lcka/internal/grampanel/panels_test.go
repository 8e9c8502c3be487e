package grampanel

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

// TestMulPanels64: a product of operands packed once (PackT64 from their
// transposes) equals MulTN64's of the same operands bit for bit, for sizes
// below, at and past the 12×16 tiles, depths past one pass (kc) and row
// strides of xt wider than n; bad sizes and sides give errors.
func TestMulPanels64(t *testing.T) {
	requireHost(t)
	r := rand.New(rand.NewPCG(13, 14))
	for _, c := range []struct{ n, ka, kb, ld int }{
		{1, 1, 1, 1}, {3, 5, 7, 4}, {17, 12, 16, 17}, {40, 13, 17, 45}, {kc + 3, 30, 45, kc + 3}, {400, 200, 199, 400}, {400, 11, 389, 401},
	} {
		// x is n×ka and y n×kb, given as their transposes.
		xt := make([]float64, (c.ka-1)*c.ld+c.n)
		yt := make([]float64, (c.kb-1)*c.ld+c.n)
		for i := range xt {
			xt[i] = r.NormFloat64()
		}
		for i := range yt {
			yt[i] = r.NormFloat64()
		}
		x, y := make([]float64, c.n*c.ka), make([]float64, c.n*c.kb)
		for t := range c.n {
			for j := range c.ka {
				x[t*c.ka+j] = xt[j*c.ld+t]
			}
			for j := range c.kb {
				y[t*c.kb+j] = yt[j*c.ld+t]
			}
		}
		want := make([]float64, c.ka*c.kb)
		if err := MulTN64(want, x, c.ka, y, c.kb, c.n, c.ka, c.kb, 1); err != nil {
			t.Fatal(err)
		}
		a, err := PackT64(xt, c.ld, c.n, c.ka, Left)
		if err != nil {
			t.Fatal(err)
		}
		// The same left side packed from x itself.
		a2, err := Pack64(x, c.ka, c.n, c.ka, Left)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.data, a2.data) {
			t.Fatalf("%+v: Pack64 and PackT64 differ", c)
		}
		b, err := PackT64(yt, c.ld, c.n, c.kb, Right)
		if err != nil {
			t.Fatal(err)
		}
		if n, k := a.Dims(); n != c.n || k != c.ka {
			t.Errorf("%+v: Dims %d, %d", c, n, k)
		}
		got := make([]float64, c.ka*c.kb)
		if err := MulPanels64(got, a, b); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%+v: C[%d] = %.17g, MulTN64 %.17g", c, i, got[i], want[i])
			}
		}
		if MulPanels64(got, b, a) == nil && c.ka != c.kb {
			t.Errorf("%+v: sides swapped: no error", c)
		}
		if MulPanels64(got[:len(got)-1], a, b) == nil {
			t.Errorf("%+v: short C: no error", c)
		}
	}
	for _, c := range []struct{ l, ld, n, k int }{{5, 2, 3, 2}, {6, 2, 3, 2}, {0, 1, 0, 1}, {3, 3, 3, 0}} {
		if _, err := PackT64(make([]float64, c.l), c.ld, c.n, c.k, Left); err == nil {
			t.Errorf("PackT64%+v: no error", c)
		}
	}
	for _, c := range []struct{ l, ld, n, k int }{{5, 2, 3, 2}, {6, 1, 3, 2}, {0, 1, 0, 1}, {3, 3, 1, 0}} {
		if _, err := Pack64(make([]float64, c.l), c.ld, c.n, c.k, Right); err == nil {
			t.Errorf("Pack64%+v: no error", c)
		}
	}
	if MulPanels64(nil, nil, nil) == nil {
		t.Error("MulPanels64 of nil: no error")
	}
}

// BenchmarkMulPanels64: one SVCCA pair's product at n = 400 (two bases of
// 200 directions), packed once, on one goroutine: hot, the same operands
// each time; cold, the right operand one of 64 (64 MB of panels, as in
// the all-pairs loop, where it comes from memory).
func BenchmarkMulPanels64(b *testing.B) {
	requireHost(b)
	const n, k, many = 400, 200, 64
	r := rand.New(rand.NewPCG(15, 16))
	xt := make([]float64, k*n)
	for i := range xt {
		xt[i] = r.NormFloat64()
	}
	a, _ := PackT64(xt, n, n, k, Left)
	rights := make([]*Panels, many)
	for i := range rights {
		rights[i], _ = PackT64(xt, n, n, k, Right)
	}
	c := make([]float64, k*k)
	for _, cold := range []bool{false, true} {
		b.Run(map[bool]string{false: "hot", true: "cold"}[cold], func(b *testing.B) {
			i := 0
			for b.Loop() {
				right := rights[0]
				if cold {
					right = rights[i%many]
					i++
				}
				if err := MulPanels64(c, a, right); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(2*n*k*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestScratchAligned: every scratch buffer, fresh or from the pool,
// starts at a 64-byte boundary (as lcka/internal/rowkernels needs).
func TestScratchAligned(t *testing.T) {
	for _, n := range []int{1, 3, 64, 1000, 3, 100000} {
		b := Scratch64(n)
		if len(b) != n || uintptr(unsafe.Pointer(&b[0]))%64 != 0 {
			t.Fatalf("Scratch64(%d): len %d at %p", n, len(b), &b[0])
		}
		Release64(b)
		f := Scratch(n)
		if len(f) != n || uintptr(unsafe.Pointer(&f[0]))%64 != 0 {
			t.Fatalf("Scratch(%d): len %d at %p", n, len(f), &f[0])
		}
		Release(f)
	}
}
