package llm

import (
	"fmt"
	"math"
	"slices"
)

// ReferenceHiddenStates is a plain float64 forward pass, written from the
// formulas in the package documentation without GoMLX, to check Model on
// small models. It returns the same NumLayers+1 states as
// Model.HiddenStates ([batch·seq·hidden] each), computed in float64 from the
// float32 weights, with RoPE frequencies from the exact float64 formulas.
// MXFP4 experts are decoded from the E2M1 and E8M0 bit fields (not from
// the tables the graph uses), and only the selected experts are evaluated.
// nil mask and positions mean all ones and 0..seq-1. It is slow:
// O(L·B·S·(S·H + TopK·H·I)), plus decoding the experts.
func ReferenceHiddenStates(cfg Config, w Weights, tokens, mask, positions [][]int32) ([][]float64, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	names, wantShapes := WeightShapes(cfg)
	p := make(map[string][]float64, len(names))
	for i, name := range names {
		data, shape, err := w.Tensor(name)
		if err != nil {
			return nil, fmt.Errorf("llm: weight %s: %w", name, err)
		}
		size := 1
		for _, d := range shape {
			size *= d
		}
		if !slices.Equal(shape, wantShapes[i]) || len(data) != size {
			return nil, fmt.Errorf("llm: weight %s has shape %v (%d values), want %v", name, shape, len(data), wantShapes[i])
		}
		v := make([]float64, len(data))
		for j, x := range data {
			v[j] = float64(x)
		}
		p[name] = v
	}
	byteNames, byteShapes := Uint8WeightShapes(cfg)
	raw := make(map[string][]uint8, len(byteNames))
	decoded := make(map[string][]float64) // expert matrices, decoded once
	if len(byteNames) > 0 {
		bw, ok := w.(Uint8Weights)
		if !ok {
			return nil, fmt.Errorf("llm: the weights (%T) do not implement Uint8Weights", w)
		}
		for i, name := range byteNames {
			data, shape, err := bw.Uint8(name)
			if err != nil {
				return nil, fmt.Errorf("llm: weight %s: %w", name, err)
			}
			if err := checkShape(shape, byteShapes[i], len(data)); err != nil {
				return nil, fmt.Errorf("llm: weight %s: %w", name, err)
			}
			raw[name] = data
		}
	}
	batch := len(tokens)
	if batch == 0 || len(tokens[0]) == 0 {
		return nil, fmt.Errorf("llm: empty batch")
	}
	seq := len(tokens[0])
	for b := range batch {
		if len(tokens[b]) != seq || (mask != nil && len(mask[b]) != seq) || (positions != nil && len(positions[b]) != seq) {
			return nil, fmt.Errorf("llm: row %d is not %d long in tokens, mask and positions", b, seq)
		}
		for _, id := range tokens[b] {
			if id < 0 || int(id) >= cfg.VocabSize {
				return nil, fmt.Errorf("llm: token %d outside the vocabulary", id)
			}
		}
	}
	if (mask != nil && len(mask) != batch) || (positions != nil && len(positions) != batch) {
		return nil, fmt.Errorf("llm: mask or positions do not have %d rows", batch)
	}

	H, D := cfg.HiddenSize, cfg.headDim()
	nH, nKV := cfg.NumHeads, cfg.numKVHeads()
	group := nH / nKV
	inv := invFreq64(cfg)
	scaling := attentionScaling(cfg)
	eps := cfg.RMSNormEps

	// rms normalizes x (len n) in place with weight w: w·x/sqrt(mean(x²)+eps).
	rms := func(x, w []float64) {
		var ss float64
		for _, v := range x {
			ss += v * v
		}
		r := 1 / math.Sqrt(ss/float64(len(x))+eps)
		for i := range x {
			x[i] *= r * w[i]
		}
	}
	// linear returns W·x (+ b) for W [out, in].
	linear := func(x []float64, prefix string, bias bool) []float64 {
		wt := p[prefix+".weight"]
		in := len(x)
		out := make([]float64, len(wt)/in)
		for o := range out {
			var s float64
			row := wt[o*in : (o+1)*in]
			for i, v := range x {
				s += row[i] * v
			}
			out[o] = s
		}
		if bias {
			for o, v := range p[prefix+".bias"] {
				out[o] += v
			}
		}
		return out
	}
	// rope rotates the head vector x (len D) at position pos:
	// a·(x·cos(pos·θ) + rotate_half(x)·sin(pos·θ)), θ repeated over both
	// halves, a the attention scaling (yarn; else 1).
	rope := func(x []float64, pos float64) {
		half := D / 2
		for i := range half {
			c, s := scaling*math.Cos(pos*inv[i]), scaling*math.Sin(pos*inv[i])
			a, b := x[i], x[i+half]
			x[i] = a*c - b*s
			x[i+half] = b*c + a*s
		}
	}

	states := make([][]float64, 0, cfg.NumLayers+1)
	out := make([]float64, batch*seq*H)
	for b := range batch {
		for s := range seq {
			id := int(tokens[b][s])
			copy(out[(b*seq+s)*H:], p["model.embed_tokens.weight"][id*H:(id+1)*H])
		}
	}
	x := slices.Clone(out)
	states = append(states, out)

	for l := range cfg.NumLayers {
		pre := fmt.Sprintf("model.layers.%d.", l)
		for b := range batch {
			// Projections per token.
			q := make([][]float64, seq) // [s][nH*D]
			k := make([][]float64, seq) // [s][nKV*D]
			v := make([][]float64, seq)
			for s := range seq {
				h := slices.Clone(x[(b*seq+s)*H : (b*seq+s+1)*H])
				rms(h, p[pre+"input_layernorm.weight"])
				q[s] = linear(h, pre+"self_attn.q_proj", cfg.AttentionBias)
				k[s] = linear(h, pre+"self_attn.k_proj", cfg.AttentionBias)
				v[s] = linear(h, pre+"self_attn.v_proj", cfg.AttentionBias)
				pos := float64(s)
				if positions != nil {
					pos = float64(positions[b][s])
				}
				for hd := range nH {
					head := q[s][hd*D : (hd+1)*D]
					if cfg.QKNorm {
						rms(head, p[pre+"self_attn.q_norm.weight"])
					}
					rope(head, pos)
				}
				for hd := range nKV {
					head := k[s][hd*D : (hd+1)*D]
					if cfg.QKNorm {
						rms(head, p[pre+"self_attn.k_norm.weight"])
					}
					rope(head, pos)
				}
			}
			visible := func(qi, ki int) bool {
				if ki > qi || mask != nil && mask[b][ki] == 0 {
					return false
				}
				return !cfg.slidingLayer(l) || ki > qi-cfg.SlidingWindow
			}
			for qi := range seq {
				attn := make([]float64, nH*D)
				for hd := range nH {
					kv := hd / group
					anyVisible := false
					for ki := range seq {
						anyVisible = anyVisible || visible(qi, ki)
					}
					// logits[ki] over the keys; -Inf for masked keys.
					logits := make([]float64, seq)
					for ki := range seq {
						switch {
						case visible(qi, ki):
							var dot float64
							for i := range D {
								dot += q[qi][hd*D+i] * k[ki][kv*D+i]
							}
							logits[ki] = dot / math.Sqrt(float64(D))
						case anyVisible || cfg.AttentionSinks:
							logits[ki] = math.Inf(-1)
						default:
							// No visible key and no sink: transformers' additive mask
							// makes every score equal, so the softmax is uniform.
							logits[ki] = 0
						}
					}
					// The sink is one more logit whose probability is dropped.
					sink := math.Inf(-1)
					if cfg.AttentionSinks {
						sink = p[pre+"self_attn.sinks"][hd]
					}
					top := sink
					for _, v := range logits {
						top = max(top, v)
					}
					z := math.Exp(sink - top)
					for ki := range logits {
						logits[ki] = math.Exp(logits[ki] - top)
						z += logits[ki]
					}
					for ki, e := range logits {
						if e == 0 {
							continue
						}
						for i := range D {
							attn[hd*D+i] += e / z * v[ki][kv*D+i]
						}
					}
				}
				o := linear(attn, pre+"self_attn.o_proj", cfg.AttentionOutputBias)
				row := x[(b*seq+qi)*H : (b*seq+qi+1)*H]
				for i := range row {
					row[i] += o[i]
				}
			}
			// MLP.
			for s := range seq {
				row := x[(b*seq+s)*H : (b*seq+s+1)*H]
				h := slices.Clone(row)
				rms(h, p[pre+"post_attention_layernorm.weight"])
				if cfg.MoE != nil {
					for i, v := range refExperts(cfg, p, raw, decoded, pre+"mlp.", h) {
						row[i] += v
					}
					continue
				}
				gate := linear(h, pre+"mlp.gate_proj", cfg.MLPBias)
				up := linear(h, pre+"mlp.up_proj", cfg.MLPBias)
				for i, g := range gate {
					gate[i] = g / (1 + math.Exp(-g)) * up[i]
				}
				down := linear(gate, pre+"mlp.down_proj", cfg.MLPBias)
				for i := range row {
					row[i] += down[i]
				}
			}
		}
		if l < cfg.NumLayers-1 {
			states = append(states, slices.Clone(x))
		}
	}
	for t := range batch * seq {
		rms(x[t*H:(t+1)*H], p["model.norm.weight"])
	}
	return append(states, x), nil
}

// refExperts is the mixture of experts of the package documentation for
// one token h, in float64, evaluating only the selected experts. Expert
// weights are decoded from the MXFP4 bytes by refMXFP4.
func refExperts(cfg Config, p map[string][]float64, raw map[string][]uint8, decoded map[string][]float64, pre string, h []float64) []float64 {
	e, H, I := cfg.MoE, cfg.HiddenSize, cfg.IntermediateSize
	logits := make([]float64, e.NumExperts)
	rw, rb := p[pre+"router.weight"], p[pre+"router.bias"]
	for j := range logits {
		logits[j] = rb[j]
		for i, v := range h {
			logits[j] += rw[j*H+i] * v
		}
	}
	order := make([]int, e.NumExperts)
	for j := range order {
		order[j] = j
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case logits[a] > logits[b]:
			return -1
		case logits[a] < logits[b]:
			return 1
		}
		return 0
	})
	top := order[:e.TopK]
	var z float64
	for _, j := range top {
		z += math.Exp(logits[j] - logits[top[0]])
	}
	out := make([]float64, H)
	for _, j := range top {
		weight := math.Exp(logits[j]-logits[top[0]]) / z
		matrix := func(prefix string, rows, cols int) []float64 {
			key := fmt.Sprintf("%s/%d", prefix, j)
			if decoded[key] == nil {
				decoded[key] = refMXFP4Matrix(raw, prefix, j, rows, cols)
			}
			return decoded[key]
		}
		w1 := matrix(pre+"experts.gate_up_proj", 2*I, H)
		w2 := matrix(pre+"experts.down_proj", H, I)
		gateUp := make([]float64, 2*I)
		for r := range gateUp {
			gateUp[r] = p[pre+"experts.gate_up_proj_bias"][j*2*I+r]
			for c, v := range h {
				gateUp[r] += w1[r*H+c] * v
			}
		}
		act := make([]float64, I)
		for i := range act {
			gate := min(gateUp[2*i], e.SwiGLULimit)
			up := min(max(gateUp[2*i+1], -e.SwiGLULimit), e.SwiGLULimit)
			act[i] = (up + 1) * gate / (1 + math.Exp(-e.SwiGLUAlpha*gate))
		}
		for o := range out {
			y := p[pre+"experts.down_proj_bias"][j*H+o]
			for i, v := range act {
				y += w2[o*I+i] * v
			}
			out[o] += weight * y
		}
	}
	return out
}

// refMXFP4Matrix decodes expert e's [rows, cols] matrix from
// prefix_blocks [E, rows, cols/32, 16] and prefix_scales [E, rows, cols/32]
// (row-major result): column c of a row is nibble c%2 (0 the low one) of
// byte (c%32)/2 of group c/32. An E2M1 code (sign s, exponent x, mantissa
// m) is (−1)^s·(m/2) for x = 0 and (−1)^s·2^(x−1)·(1 + m/2) otherwise; the
// E8M0 scale byte k is 2^(k−127), except 255, which is NaN (OCP MX v1.0).
func refMXFP4Matrix(raw map[string][]uint8, prefix string, e, rows, cols int) []float64 {
	blocks, scales := raw[prefix+"_blocks"], raw[prefix+"_scales"]
	groups := cols / 32
	out := make([]float64, rows*cols)
	for row := range rows {
		for c := range cols {
			g := (e*rows+row)*groups + c/32
			b := blocks[g*16+(c%32)/2]
			code := b & 0x0F
			if c%2 == 1 {
				code = b >> 4
			}
			x, m := float64((code>>1)&3), float64(code&1)
			v := m / 2
			if x > 0 {
				v = math.Pow(2, x-1) * (1 + m/2)
			}
			if code&8 != 0 {
				v = -v
			}
			if scales[g] == 255 {
				v = math.NaN()
			}
			out[row*cols+c] = v * math.Pow(2, float64(scales[g])-127)
		}
	}
	return out
}
