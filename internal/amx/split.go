package amx

import (
	"fmt"
	"math"
	"sync"
)

// Float32 products from bfloat16 ones. A float32 x splits into three
// bfloat16 values, x = hi + mid + lo exactly (for normal x away from the
// float32 range's ends): hi is x rounded to bfloat16, mid the remainder
// rounded, lo the rest; each rounding to nearest keeps 8 significant bits
// and a sign, so the three hold x's 24. A product a·w is then
//
//	a·w = (ah + am + al)·(wh + wm + wl)
//	    ≈ ah·wh + (ah·wm + am·wh) + (ah·wl + am·wm + al·wh)
//
// leaving out the terms below 2⁻²⁴ relative (am·wl, al·wm, al·wl), and
// every bfloat16 product is exact in float32. So six bfloat16 matrix
// products on AMX, accumulated in float32, give a float32 matrix product
// to about the float32 rounding of its sums (the "bf16x6" scheme of
// Henry, Tang and Heinecke, "Leveraging the bfloat16 Artificial
// Intelligence Datatype For Higher-Precision Computations", ARITH 2019).
// On this project's machine that is about a sixth of the bfloat16 rate,
// well above the Go backend's float32 kernel. The smallest terms are
// summed first. Differences from a float32 product: the order of the sums,
// the terms left out, and TDPBF16PS's flushing of subnormal bfloat16
// inputs to zero (remainders of values below about 1e-33).

// SplitWeight is a float32 matrix W [N, K] packed as its three bfloat16
// parts. Safe for concurrent MatMul calls.
type SplitWeight struct {
	hi, mid, lo *Weight
}

// PackSplitWeight packs w (float32, len n*k) for MatMul. Errors as
// PackWeight.
func PackSplitWeight(w []float32, n, k int) (*SplitWeight, error) {
	if n < 1 || k < 1 || n > maxDim || k > maxDim || n > math.MaxInt/k {
		return nil, fmt.Errorf("amx: PackSplitWeight: bad size %d×%d", n, k)
	}
	if len(w) != n*k {
		return nil, fmt.Errorf("amx: PackSplitWeight: len(w) = %d, want %d×%d = %d", len(w), n, k, n*k)
	}
	hi, mid, lo := make([]uint16, len(w)), make([]uint16, len(w)), make([]uint16, len(w))
	SplitBFloat16(hi, mid, lo, w)
	return PackSplitParts(hi, mid, lo, n, k)
}

// PackSplitParts is PackSplitWeight from W's three parts (SplitBFloat16's
// hi, mid and lo, len n*k each), for callers that split faster.
// The three are packed at once, on up to three cores.
func PackSplitParts(hi, mid, lo []uint16, n, k int) (*SplitWeight, error) {
	var sw SplitWeight
	var errs [3]error
	var wg sync.WaitGroup
	for i, p := range []struct {
		dst **Weight
		src []uint16
	}{{&sw.hi, hi}, {&sw.mid, mid}, {&sw.lo, lo}} {
		wg.Go(func() { *p.dst, errs[i] = PackWeight(p.src, n, k) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return &sw, nil
}

// N returns the number of rows of W.
func (w *SplitWeight) N() int { return w.hi.n }

// K returns the number of columns of W.
func (w *SplitWeight) K() int { return w.hi.k }

// Bytes returns the memory held by the three packed parts.
func (w *SplitWeight) Bytes() int64 { return w.hi.bytes + w.mid.bytes + w.lo.bytes }

// SplitBFloat16 writes the bfloat16 bit patterns of x's three parts (see
// SplitWeight): hi[i] + mid[i] + lo[i] = x[i] to about 2⁻²⁴ relative.
// Infinities and NaNs go to hi, with zero remainders.
func SplitBFloat16(hi, mid, lo []uint16, x []float32) {
	hi, mid, lo = hi[:len(x)], mid[:len(x)], lo[:len(x)]
	for i, v := range x {
		h := roundBF16(v)
		if h&0x7F80 == 0x7F80 {
			hi[i], mid[i], lo[i] = h, 0, 0
			continue
		}
		r := v - widenBF16(h)
		m := roundBF16(r)
		hi[i], mid[i], lo[i] = h, m, roundBF16(r-widenBF16(m))
	}
}

// roundBF16 rounds f to the nearest bfloat16 (ties to even; NaN and
// infinities truncated).
func roundBF16(f float32) uint16 {
	bits := math.Float32bits(f)
	if bits&0x7F800000 != 0x7F800000 {
		bits += 0x7FFF + (bits>>16)&1
	}
	return uint16(bits >> 16)
}

func widenBF16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// splitScratch holds the three parts of A of one MatMul call.
type splitScratch struct{ hi, mid, lo []uint16 }

var splitScratches = sync.Pool{New: func() any { return new(splitScratch) }}

// MatMul sets c [m, N] to a·Wᵀ for a [m, K] float32, from six bfloat16
// products (see SplitWeight). Errors as Weight.MatMul.
func (w *SplitWeight) MatMul(c []float32, a []float32, m, workers int) error {
	if w == nil || w.hi == nil {
		return errNotPacked
	}
	if m < 0 || m > maxDim || len(a) != m*w.K() {
		return fmt.Errorf("amx: MatMul: len(a) = %d, want m×K = %d×%d", len(a), m, w.K())
	}
	s := splitScratches.Get().(*splitScratch)
	defer splitScratches.Put(s)
	for _, p := range []*[]uint16{&s.hi, &s.mid, &s.lo} {
		if cap(*p) < len(a) {
			*p = make([]uint16, len(a))
		}
		*p = (*p)[:len(a)]
	}
	SplitBFloat16(s.hi, s.mid, s.lo, a)
	return w.MatMulParts(c, s.hi, s.mid, s.lo, m, workers)
}

// MatMulParts is MatMul with a given as its three parts (SplitBFloat16's
// hi, mid and lo, [m, K] each), for callers that split faster.
func (w *SplitWeight) MatMulParts(c []float32, hi, mid, lo []uint16, m, workers int) error {
	if w == nil || w.hi == nil {
		return errNotPacked
	}
	// The smallest terms first: 2⁻¹⁶, then 2⁻⁸, then 1, relative.
	for i, p := range []struct {
		a []uint16
		w *Weight
	}{{lo, w.hi}, {mid, w.mid}, {hi, w.lo}, {mid, w.hi}, {hi, w.mid}, {hi, w.hi}} {
		var err error
		if i == 0 {
			err = p.w.MatMul(c, p.a, m, workers)
		} else {
			err = p.w.MatMulAdd(c, p.a, m, workers)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
