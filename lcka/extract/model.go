package extract

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gomlx/compute"

	lbackend "github.com/layersim/layersim/lcka/backend"
	"github.com/layersim/layersim/lcka/hf"
	"github.com/layersim/layersim/lcka/llm"
	"github.com/layersim/layersim/lcka/tokenizer"
)

// NewGoBackend returns GoMLX's pure-Go backend with its ops run one after
// the other ("ops_sequential"), each op still using every core. With the
// default scheduling, graphs holding many independent large matrix products
// can exhaust the backend's worker pool and deadlock on few cores (seen in
// package cka on 2 cores). The llm forward pass has at most three
// independent products (q, k, v) and did not hang in our runs with either
// scheduling, at about the same speed; the sequential one is used to be safe.
// Ops run in the order the graph built them ("creation_order"): package
// llm pools each hidden state right after building it, so that the full
// state can be freed before the next layer; the default order (longest
// path to an output first) would run every pooling at the end and keep all
// L+1 states [batch, seq, hidden] alive.
func NewGoBackend() (compute.Backend, error) {
	b, err := lbackend.New(lbackend.Spec{Kind: lbackend.Go}, goConfig)
	if err != nil {
		return nil, fmt.Errorf("extract: starting the Go backend: %w", err)
	}
	return b, nil
}

// goConfig configures the Go backend for extraction (see NewGoBackend).
const goConfig = "ops_sequential,creation_order"

// NewDefaultBackend starts the backend of backend.Default (--backend,
// $LAYERSIM_BACKEND, else go): the Go one as NewGoBackend configures it,
// or an XLA one shared by the process (backend.Shared).
func NewDefaultBackend() (compute.Backend, error) {
	s, err := lbackend.Default()
	if err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	b, err := lbackend.Shared(s, goConfig)
	if err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	return b, nil
}

// LoadOptions configure Load.
type LoadOptions struct {
	// Hub configures the download of hub models (revision, cache, token,
	// offline mode).
	Hub hf.Options
	// Backend runs the model; nil means NewDefaultBackend(), started at
	// the first forward pass.
	Backend compute.Backend
	// DType is the dtype the model runs in: "auto" (or ""), "float32",
	// "bfloat16" or "float16". "auto" follows the checkpoint as
	// transformers' torch_dtype="auto" does: config.json's torch_dtype
	// (or dtype), else the dtype of the first floating-point weight.
	// Weights are held in this dtype (converted tensor by tensor where the
	// file's differs); the saved states are float32 either way.
	DType string
	// ID, if set, is the model id recorded in meta.json instead of the
	// folder or hub id given to Load (the slug still comes from the latter).
	ID string
	// NoAMX keeps a bfloat16 or float32 model on the backend's matrix
	// kernel even on a CPU with Intel AMX, where its blocks otherwise run on
	// the host with their products on internal/amx (llm.WithoutAMX).
	// meta.json records which ran ("linear_kernel").
	NoAMX bool
}

// Model is a model ready to extract hidden states: its configuration, its
// tokenizer and its opened weights. The weights are copied to the backend
// on the first forward pass, so that runs whose artifacts already exist
// never load them.
type Model struct {
	ID       string // the model as given (a folder or a hub id), or LoadOptions.ID
	Revision string // the hub commit (or revision) of a hub model; "" for a folder
	Dir      string // the folder holding config.json, tokenizer.json and weights
	DType    string // the dtype it runs in: float32, bfloat16 or float16

	HF        *hf.Config
	Config    llm.Config
	Tokenizer *tokenizer.Tokenizer

	// Fingerprint identifies config.json, tokenizer.json and the weights:
	// see the package documentation.
	Fingerprint string

	backend  compute.Backend
	ckpt     *hf.Checkpoint
	model    *llm.Model
	source   string        // the folder or hub id given to Load
	noAMX    bool          // LoadOptions.NoAMX
	loadTime time.Duration // of the weights, by the last forward call that loaded them
	// forward runs one padded batch; tests replace it.
	forward func(tokens, mask, positions [][]int32, pooling Pooling) (*llm.Pooled, error)
}

// Load finds the model (a local folder, or a hub id "org/name[@revision]"
// downloaded into the Hugging Face cache), checks that package llm can run
// it (see LLMConfig), and opens its tokenizer.json and safetensors weights.
func Load(ctx context.Context, idOrPath string, opts LoadOptions) (*Model, error) {
	if idOrPath == "" {
		return nil, errors.New("extract: no model given")
	}
	if _, err := ParseDType(opts.DType); err != nil {
		return nil, err
	}
	res, err := hf.ResolveContext(ctx, idOrPath, opts.Hub)
	if err != nil {
		return nil, fmt.Errorf("extract: model %s: %w", idOrPath, err)
	}
	c, err := hf.LoadConfig(res.Dir)
	if err != nil {
		return nil, fmt.Errorf("extract: model %s: %w", idOrPath, err)
	}
	cfg, err := LLMConfig(c)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", idOrPath, err)
	}
	tokPath := filepath.Join(res.Dir, hf.TokenizerFile)
	if _, err := os.Stat(tokPath); err != nil {
		return nil, fmt.Errorf("extract: model %s has no %s (only tokenizer.json tokenizers are supported)", idOrPath, hf.TokenizerFile)
	}
	tok, err := tokenizer.Load(tokPath)
	if err != nil {
		return nil, fmt.Errorf("extract: model %s: %w", idOrPath, err)
	}
	fp, err := fingerprint(res.Dir)
	if err != nil {
		return nil, err
	}
	ckpt, err := hf.OpenCheckpoint(res.Dir)
	if err != nil {
		return nil, fmt.Errorf("extract: model %s: %w", idOrPath, err)
	}
	if err := checkCheckpoint(cfg, ckpt); err != nil {
		ckpt.Close()
		return nil, fmt.Errorf("extract: model %s: %w", idOrPath, err)
	}
	dtype, err := resolveDType(opts.DType, c, ckpt)
	if err != nil {
		ckpt.Close()
		return nil, fmt.Errorf("extract: model %s: %w", idOrPath, err)
	}
	m := &Model{
		ID: idOrPath, Dir: res.Dir, DType: dtype, HF: c, Config: cfg, Tokenizer: tok,
		Fingerprint: fp, backend: opts.Backend, ckpt: ckpt, source: idOrPath, noAMX: opts.NoAMX,
	}
	if opts.ID != "" {
		m.ID = opts.ID
	}
	if !res.Local {
		m.Revision = res.Commit
		if m.Revision == "" {
			m.Revision = res.Revision
		}
	}
	m.forward = m.llmForward
	return m, nil
}

// Close releases the weights, on the backend and on disk.
func (m *Model) Close() error {
	if m.model != nil {
		m.model.Close()
		m.model = nil
	}
	if m.ckpt != nil {
		err := m.ckpt.Close()
		m.ckpt = nil
		return err
	}
	return nil
}

// Slug is the model's folder name under ROOT/models: the hub id with "/"
// replaced by "__" (org__name), or the base name of a local folder.
func (m *Model) Slug() string { return Slug(m.source) }

// Slug returns the folder name of a model id or path: see Model.Slug.
// Characters other than letters, digits, '.', '_' and '-' become '_';
// leading and trailing '_' and leading '.' are dropped.
func Slug(idOrPath string) string {
	s := idOrPath
	if id, _, _ := strings.Cut(s, "@"); hf.ValidRepoID(id) && !isLocalPath(s) {
		s = strings.ReplaceAll(id, "/", "__")
	} else {
		s = filepath.Base(filepath.Clean(s))
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
	s = strings.TrimLeft(strings.Trim(s, "_"), ".")
	if s == "" {
		s = "model"
	}
	return s
}

func isLocalPath(s string) bool {
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") {
		return true
	}
	st, err := os.Stat(s)
	return err == nil && st.IsDir()
}

// llmForward runs the batch on the llm model, copying the weights to the
// backend on the first call.
func (m *Model) llmForward(tokens, mask, positions [][]int32, pooling Pooling) (*llm.Pooled, error) {
	if m.model == nil {
		if m.ckpt == nil {
			return nil, errors.New("extract: model is closed")
		}
		if m.backend == nil {
			b, err := NewDefaultBackend()
			if err != nil {
				return nil, err
			}
			m.backend = b
		}
		dt, err := ParseDType(m.DType)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		opts := []llm.Option{llm.WithDType(dt)}
		if m.noAMX {
			opts = append(opts, llm.WithoutAMX())
		}
		lm, err := llm.New(m.backend, m.Config, CheckpointWeights(m.ckpt), opts...)
		m.loadTime = time.Since(start)
		if err != nil {
			return nil, fmt.Errorf("extract: model %s: %w", m.ID, err)
		}
		m.model = lm
	}
	return m.model.PooledHiddenStates(tokens, mask, positions, pooling.llm())
}

// fullHashLimit is the size up to which a weights file is hashed whole for
// the fingerprint; larger files count by size, header and modification time.
const fullHashLimit = 256 << 20

// fingerprint hashes what determines a model's hidden states: config.json,
// tokenizer.json, and for each weights file (*.safetensors and the index)
// its name, size and either its blob name in the hub cache (the sha256 the
// hub gives), or its whole content when at most 256 MiB, or else its
// safetensors header and modification time.
func fingerprint(dir string) (string, error) {
	h := sha256.New()
	add := func(parts ...string) {
		for _, p := range parts {
			_ = binary.Write(h, binary.LittleEndian, uint64(len(p)))
			io.WriteString(h, p)
		}
	}
	for _, name := range []string{hf.ConfigFile, hf.TokenizerFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", fmt.Errorf("extract: %w", err)
		}
		add(name, string(b))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("extract: %w", err)
	}
	var files []string
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".safetensors") || n == hf.SafetensorsIndex {
			files = append(files, n)
		}
	}
	sort.Strings(files)
	for _, name := range files {
		id, err := fileIdentity(filepath.Join(dir, name))
		if err != nil {
			return "", err
		}
		add(name, id)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// fileIdentity describes one weights file for fingerprint.
func fileIdentity(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("extract: %w", err)
	}
	size := fmt.Sprint(st.Size())
	if target, err := os.Readlink(path); err == nil && filepath.Base(filepath.Dir(target)) == "blobs" {
		return size + " blob " + filepath.Base(target), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("extract: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if st.Size() <= fullHashLimit {
		if _, err := io.Copy(h, f); err != nil {
			return "", fmt.Errorf("extract: %s: %w", path, err)
		}
		return size + " sha256 " + hex.EncodeToString(h.Sum(nil)), nil
	}
	var n [8]byte
	if _, err := io.ReadFull(f, n[:]); err != nil {
		return "", fmt.Errorf("extract: %s: %w", path, err)
	}
	hdr := int64(binary.LittleEndian.Uint64(n[:]))
	if hdr < 0 || hdr > hf.MaxHeaderSize || hdr > st.Size()-8 {
		return "", fmt.Errorf("extract: %s: invalid safetensors header length %d", path, hdr)
	}
	if _, err := io.CopyN(h, f, hdr); err != nil {
		return "", fmt.Errorf("extract: %s: %w", path, err)
	}
	return fmt.Sprintf("%s header %x mtime %d", size, h.Sum(nil), st.ModTime().UnixNano()), nil
}
