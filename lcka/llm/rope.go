package llm

import "math"

// f32 rounds to the nearest float32 (as a float64, for chained emulation).
func f32(x float64) float64 { return float64(float32(x)) }

// invFreq32 returns the RoPE inverse frequencies (head_dim/2 of them) in
// float32, reproducing step by step the float32 tensor arithmetic of
// transformers' _compute_default_rope_parameters,
// _compute_linear_scaling_rope_parameters, _compute_llama3_parameters and
// _compute_yarn_parameters (each torch op rounds to float32; a Python scalar is rounded to float32
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
		case "yarn":
			// pos = base^(2i/d); extrapolation 1/pos, interpolation
			// 1/(factor·pos); ramp = clamp((i − low)/(high − low), 0, 1);
			// e = 1 − ramp; inv = interp·(1 − e) + extrap·e.
			y := yarnOf(c)
			factor := f32(y.factor)
			low := f32(y.low)
			span := f32(y.high - y.low)
			for i := range inv {
				pos := f32(math.Pow(base, f32(float64(2*i)/float64(dim))))
				extrap := f32(1 / pos)
				interp := f32(1 / f32(factor*pos))
				ramp := min(max(f32(f32(float64(i)-low)/span), 0), 1)
				e := f32(1 - ramp)
				inv[i] = f32(f32(interp*f32(1-e)) + f32(extrap*e))
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
//	yarn:    with r_i = clamp((i − low)/(high − low), 0, 1) (see yarnOf),
//	         θ_i/factor · r_i + θ_i · (1 − r_i).
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
		case "yarn":
			y := yarnOf(c)
			for i, f := range inv {
				ramp := min(max((float64(i)-y.low)/(y.high-y.low), 0), 1)
				inv[i] = f/y.factor*ramp + f*(1-ramp)
			}
		}
	}
	return inv
}

// yarn holds the derived parameters of transformers'
// _compute_yarn_parameters (v4.55.4).
type yarn struct {
	factor    float64 // effective factor
	attention float64 // attention factor: cos and sin are multiplied by it
	low, high float64 // ramp bounds (dimension indices)
}

// yarnOf computes the yarn parameters of c (whose rope_scaling type is yarn):
//
//	L = original_max_position_embeddings, and then the factor is
//	    max_position_embeddings / L; without it L = max_position_embeddings
//	    and the factor is rope_scaling's
//	attention = attention_factor if given, else
//	    m(factor, mscale)/m(factor, mscale_all_dim) if both are nonzero, else m(factor, 1),
//	    with m(s, k) = 0.1·k·ln s + 1 for s > 1 and 1 otherwise
//	dim(r) = d·ln(L/(2π·r)) / (2 ln base)
//	low = max(dim(beta_fast), 0), high = min(dim(beta_slow), d−1), rounded
//	    down and up first when truncate (the default); high += 0.001 if equal.
func yarnOf(c Config) yarn {
	s := c.RopeScaling
	d := float64(c.headDim())
	factor := s.Factor
	orig := float64(c.MaxPositionEmbeddings)
	if s.OriginalMaxPositionEmbeddings > 0 {
		orig = float64(s.OriginalMaxPositionEmbeddings)
		factor = float64(c.MaxPositionEmbeddings) / orig
	}
	mscale := func(scale, k float64) float64 {
		if scale <= 1 {
			return 1
		}
		return 0.1*k*math.Log(scale) + 1
	}
	attention := s.AttentionFactor
	if attention == 0 {
		if s.MScale != 0 && s.MScaleAllDim != 0 {
			attention = mscale(factor, s.MScale) / mscale(factor, s.MScaleAllDim)
		} else {
			attention = mscale(factor, 1)
		}
	}
	betaFast, betaSlow := s.BetaFast, s.BetaSlow
	if betaFast == 0 {
		betaFast = 32
	}
	if betaSlow == 0 {
		betaSlow = 1
	}
	correctionDim := func(rotations float64) float64 {
		return d * math.Log(orig/(rotations*2*math.Pi)) / (2 * math.Log(c.RopeTheta))
	}
	low, high := correctionDim(betaFast), correctionDim(betaSlow)
	if s.Truncate == nil || *s.Truncate {
		low, high = math.Floor(low), math.Ceil(high)
	}
	low, high = max(low, 0), min(high, d-1)
	if low == high {
		high += 0.001
	}
	return yarn{factor: factor, attention: attention, low: low, high: high}
}

// attentionScaling is the factor applied to cos and sin (yarn's attention
// factor; 1 for the other RoPE types).
func attentionScaling(c Config) float64 {
	if c.RopeScaling != nil && c.RopeScaling.Type == "yarn" {
		return yarnOf(c).attention
	}
	return 1
}
