package llm

import "math"

// f32 rounds to the nearest float32 (as a float64, for chained emulation).
func f32(x float64) float64 { return float64(float32(x)) }

// invFreq32 returns the RoPE inverse frequencies (head_dim/2 of them) in
// float32, reproducing step by step the float32 tensor arithmetic of
// transformers' _compute_default_rope_parameters,
// _compute_linear_scaling_rope_parameters and _compute_llama3_parameters
// (each torch op rounds to float32; a Python scalar is rounded to float32
// when it meets a float32 tensor; scalar / tensor is computed as
// reciprocal(tensor) * scalar, as torch's __rtruediv__ does). The only
// operation that may differ from torch by one ulp is the power.
func invFreq32(c Config) []float32 {
	dim := c.headDim()
	base := f32(c.RopeTheta)
	inv := make([]float64, dim/2)
	for i := range inv {
		exponent := f32(float64(2*i) / float64(dim))
		inv[i] = f32(1 / f32(math.Pow(base, exponent)))
	}
	if s := c.RopeScaling; s != nil {
		switch s.Type {
		case "linear":
			for i := range inv {
				inv[i] = f32(inv[i] / f32(s.Factor))
			}
		case "llama3":
			factor := f32(s.Factor)
			oldCtx := float64(s.OriginalMaxPositionEmbeddings)
			lowWavelen := f32(oldCtx / s.LowFreqFactor)
			highWavelen := f32(oldCtx / s.HighFreqFactor)
			lowFactor := f32(s.LowFreqFactor)
			span := f32(s.HighFreqFactor - s.LowFreqFactor)
			for i, f := range inv {
				wavelen := f32(f32(1/f) * f32(2*math.Pi))
				scaled := f
				if wavelen > lowWavelen {
					scaled = f32(f / factor)
				}
				if !(wavelen < highWavelen) && !(wavelen > lowWavelen) {
					smooth := f32(f32(f32(f32(1/wavelen)*f32(oldCtx))-lowFactor) / span)
					a := f32(f32(f32(1-smooth)*scaled) / factor)
					b := f32(smooth * scaled)
					scaled = f32(a + b)
				}
				inv[i] = scaled
			}
		}
	}
	out := make([]float32, len(inv))
	for i, f := range inv {
		out[i] = float32(f)
	}
	return out
}

// invFreq64 returns the RoPE inverse frequencies in exact float64
// arithmetic, straight from the formulas:
//
//	θ_i = base^(-2i/d)
//	linear:  θ_i / factor
//	llama3:  with λ_i = 2π/θ_i, λ_lo = L/low, λ_hi = L/high,
//	         θ_i            if λ_i < λ_hi,
//	         θ_i / factor   if λ_i > λ_lo,
//	         (1-s)·θ_i/factor + s·θ_i otherwise, s = (L/λ_i - low)/(high - low).
func invFreq64(c Config) []float64 {
	dim := c.headDim()
	inv := make([]float64, dim/2)
	for i := range inv {
		inv[i] = math.Pow(c.RopeTheta, -float64(2*i)/float64(dim))
	}
	if s := c.RopeScaling; s != nil {
		switch s.Type {
		case "linear":
			for i := range inv {
				inv[i] /= s.Factor
			}
		case "llama3":
			oldCtx := float64(s.OriginalMaxPositionEmbeddings)
			lowWavelen, highWavelen := oldCtx/s.LowFreqFactor, oldCtx/s.HighFreqFactor
			for i, f := range inv {
				wavelen := 2 * math.Pi / f
				switch {
				case wavelen < highWavelen:
				case wavelen > lowWavelen:
					inv[i] = f / s.Factor
				default:
					smooth := (oldCtx/wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)
					inv[i] = (1-smooth)*f/s.Factor + smooth*f
				}
			}
		}
	}
	return inv
}
