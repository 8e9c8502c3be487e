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
// nil mask and positions mean all ones and 0..seq-1. It is slow: O(L·B·S²·H).
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
	// x·cos(pos·θ) + rotate_half(x)·sin(pos·θ), θ repeated over both halves.
	rope := func(x []float64, pos float64) {
		half := D / 2
		for i := range half {
			c, s := math.Cos(pos*inv[i]), math.Sin(pos*inv[i])
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
			visible := func(qi, ki int) bool { return ki <= qi && (mask == nil || mask[b][ki] != 0) }
			for qi := range seq {
				attn := make([]float64, nH*D)
				for hd := range nH {
					kv := hd / group
					scores := make([]float64, seq)
					anyVisible := false
					for ki := range seq {
						if visible(qi, ki) {
							anyVisible = true
						}
					}
					maxScore := math.Inf(-1)
					for ki := range seq {
						if anyVisible && !visible(qi, ki) {
							scores[ki] = math.Inf(-1)
							continue
						}
						if !anyVisible {
							// No visible key: transformers' additive mask makes every
							// score equal, so the softmax is uniform over all keys.
							scores[ki] = 0
							continue
						}
						var dot float64
						for i := range D {
							dot += q[qi][hd*D+i] * k[ki][kv*D+i]
						}
						scores[ki] = dot / math.Sqrt(float64(D))
						maxScore = max(maxScore, scores[ki])
					}
					if !anyVisible {
						maxScore = 0
					}
					var z float64
					for ki := range seq {
						scores[ki] = math.Exp(scores[ki] - maxScore)
						z += scores[ki]
					}
					for ki := range seq {
						pr := scores[ki] / z
						if pr == 0 {
							continue
						}
						for i := range D {
							attn[hd*D+i] += pr * v[ki][kv*D+i]
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
