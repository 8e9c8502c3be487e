package extract

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/layersim/layersim/lcka/artifacts"
	lbackend "github.com/layersim/layersim/lcka/backend"
	"github.com/layersim/layersim/lcka/data"
	"github.com/layersim/layersim/lcka/hf"
	"github.com/layersim/layersim/lcka/llm"
	"github.com/layersim/layersim/lcka/shard"
)

// Pooling selects how a text's token states become one vector per layer.
type Pooling string

// Poolings. All are over the real tokens of a text (special tokens added by
// the tokenizer included, padding excluded).
const (
	// PoolLast takes the state of the last token, which in a causal model
	// has seen the whole text: the original study's default.
	PoolLast Pooling = "last"
	// PoolMean averages the states of all tokens (accumulated in float64).
	PoolMean Pooling = "mean"
	// PoolMax takes the element-wise maximum over the tokens.
	PoolMax Pooling = "max"
)

// ParsePooling returns the pooling named s ("last", "mean" or "max").
// llm returns the llm pooling of p.
func (p Pooling) llm() llm.Pooling {
	switch p {
	case PoolMean:
		return llm.PoolMean
	case PoolMax:
		return llm.PoolMax
	}
	return llm.PoolLast
}

func ParsePooling(s string) (Pooling, error) {
	switch p := Pooling(s); p {
	case PoolLast, PoolMean, PoolMax:
		return p, nil
	}
	return "", fmt.Errorf("extract: unknown pooling %q (last, mean or max)", s)
}

// Defaults of Options.
const (
	DefaultMaxLength = 256
	DefaultBatchSize = 16
	DefaultSplit     = "test"
)

// Options configure Extract. The zero value of each field but Out takes the
// default named in its comment.
type Options struct {
	Out    string // artifacts root (required)
	Slug   string // model folder name under Out/models; default Model.Slug()
	Split  string // split name of the sets; default "test"
	Subset string // "subset" of meta.json, the data spec; default the set's Name

	Pooling   Pooling // default PoolLast
	MaxLength int     // truncation length in tokens, special tokens included; default 256
	BatchSize int     // prompts per forward pass at most; default 16

	// NoSpecialTokens encodes without the special tokens of the
	// tokenizer's post-processor (by default they are added, as
	// transformers' tokenizer(text) does: BOS for Llama 3).
	NoSpecialTokens bool
	// EmbeddingLayer also saves the embedding output (hidden_states[0]) as
	// <slug>_<lang>_<split>.layer_0.npy next to the set.
	EmbeddingLayer bool
	// MemoryLimit, when positive, is the number of bytes a batch's
	// activations may take by EstimateBatchBytes; larger batches are
	// halved before they run.
	MemoryLimit int64
	// Force recomputes sets whose artifact already exists and matches.
	Force bool
	// Shard, when set, runs only shard i of N of the prompts (shard.Range:
	// whole blocks, contiguous) and writes it as a part of the set
	// (artifacts.CreatePart); Merge joins the parts.
	Shard shard.Spec
	// Block is the number of consecutive prompts within which texts are
	// batched by length, the unit of Shard; default shard.DefaultBlock.
	// Runs with the same Block and BatchSize run the same batches whatever
	// the sharding.
	Block int
	// IgnoreMemoryPlan runs even when the memory plan (Model.PlanMemory)
	// says the model does not fit the machine's available memory.
	IgnoreMemoryPlan bool

	// Progress, if set, is called after every batch (and once per language
	// at its start and end).
	Progress func(Progress)
}

// Progress reports the state of an extraction.
type Progress struct {
	Model string
	Lang  string
	Done  int // texts finished, resumed ones included
	Total int // texts of this language

	Tokens       int           // tokens run in this process, for this language
	TokensLeft   int           // tokens of the texts not yet finished
	TokensPerSec float64       // Tokens over Elapsed
	Elapsed      time.Duration // since this language started
	ETA          time.Duration // TokensLeft / TokensPerSec; 0 when unknown
	BatchSize    int           // current batch size
	Note         string        // an event: "resumed …", "out of memory …", "skipped …"
}

// Halving records a batch that was split because it did not fit.
type Halving struct {
	Rows     int    // rows of the batch that did not fit
	Tokens   int    // its padded length
	From, To int    // batch size before and after
	Reason   string // the error, or the memory estimate
}

// TokenStats summarizes the token counts of the texts of one language, as
// fed to the model (after truncation, special tokens included).
type TokenStats struct {
	Mean      float64 `json:"mean"`
	Median    float64 `json:"median"`
	Min       int     `json:"min"`
	Max       int     `json:"max"`
	Total     int     `json:"total"`
	Truncated int     `json:"truncated"` // texts longer than MaxLength, cut
}

// Result describes the extraction of one language.
type Result struct {
	Lang     string
	Path     string // the .npz of the set
	Skipped  bool   // an artifact with the same fingerprint existed
	Stale    bool   // a checkpoint of another run was discarded
	Resumed  int    // texts taken from the checkpoint
	Computed int    // texts run in this call
	Forward  int    // forward passes run (failed ones included)
	Batch    int    // batch size at the end
	Halvings []Halving
	Tokens   TokenStats
	Elapsed  time.Duration
	// Load is the part of Elapsed spent copying the weights to the backend
	// (on the first forward pass of a Model); Forwarding the part spent in
	// forward passes otherwise (graph compilation included), over which
	// TokensPerSec counts the real tokens run.
	Load, Forwarding time.Duration
	TokensPerSec     float64
}

// ErrOutOfMemory is the error a forward pass may wrap to report that the
// batch did not fit; Extract also recognizes the messages of XLA and CUDA
// (see IsOutOfMemory).
var ErrOutOfMemory = errors.New("out of memory")

// ErrDoesNotFit is wrapped by the error of an extraction whose memory plan
// does not fit the machine (see Model.PlanMemory and
// Options.IgnoreMemoryPlan); the message gives the figures and the way out.
var ErrDoesNotFit = errors.New("the model does not fit in memory")

// IsOutOfMemory reports whether err says that memory ran out: it wraps
// ErrOutOfMemory, or its message holds "out of memory",
// "RESOURCE_EXHAUSTED" or "failed to allocate" (any case), or it is a
// PJRT error of code RESOURCE_EXHAUSTED as go-xla words it. The Go
// backend cannot report it: the Go runtime ends the process when memory
// runs out, so use Options.MemoryLimit there.
func IsOutOfMemory(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrOutOfMemory) {
		return true
	}
	msg := strings.ToLower(err.Error())
	// go-xla reports PJRT errors as "PJRT error (code=N): message"; code 8
	// is RESOURCE_EXHAUSTED.
	for _, s := range []string{"out of memory", "resource_exhausted", "failed to allocate", "oom when allocating", "pjrt error (code=8)"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// EstimateBatchBytes is EstimateBatchBytesDType in float32.
func EstimateBatchBytes(c llm.Config, batch, seq int) int64 {
	return EstimateBatchBytesDType(c, dtypes.Float32, batch, seq)
}

func (o *Options) defaults(set *data.Parallel, m *Model) error {
	if o.Out == "" {
		return errors.New("extract: no output folder (Options.Out)")
	}
	if o.Slug == "" {
		o.Slug = m.Slug()
	}
	if o.Split == "" {
		o.Split = DefaultSplit
	}
	if o.Subset == "" {
		o.Subset = set.Name
	}
	if err := checkName("slug", o.Slug); err != nil {
		return err
	}
	if err := checkName("split", o.Split); err != nil {
		return err
	}
	if strings.Contains(o.Split, ".") {
		return fmt.Errorf("extract: split %q must not contain '.'", o.Split)
	}
	for _, lang := range set.Langs {
		if err := checkName("language", lang); err != nil {
			return err
		}
	}
	if o.Pooling == "" {
		o.Pooling = PoolLast
	}
	if _, err := ParsePooling(string(o.Pooling)); err != nil {
		return err
	}
	if o.MaxLength == 0 {
		o.MaxLength = DefaultMaxLength
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Block == 0 {
		o.Block = shard.DefaultBlock
	}
	if o.Block < 1 {
		return fmt.Errorf("extract: block %d must be positive", o.Block)
	}
	if o.Shard.Sharded() {
		if err := o.Shard.Check(); err != nil {
			return fmt.Errorf("extract: %w", err)
		}
	}
	if o.MaxLength < 1 || o.BatchSize < 1 || o.MemoryLimit < 0 {
		return fmt.Errorf("extract: max length (%d), batch size (%d) must be positive and the memory limit (%d) not negative",
			o.MaxLength, o.BatchSize, o.MemoryLimit)
	}
	if special := m.Tokenizer.SpecialTokensAdded(); !o.NoSpecialTokens && o.MaxLength <= special {
		return fmt.Errorf("extract: max length %d leaves no room for text after the %d special tokens", o.MaxLength, special)
	}
	return nil
}

// checkName checks a slug, language or split against the artifacts layout:
// not empty, no path separator, no leading '.'.
func checkName(what, s string) error {
	if s == "" || s[0] == '.' || strings.ContainsAny(s, `/\`) || s != strings.TrimSpace(s) {
		return fmt.Errorf("extract: invalid %s %q (no path separators, leading '.' or surrounding spaces)", what, s)
	}
	return nil
}

// Extract runs the model on every language of set and writes one artifact
// set per language under opts.Out (see the package documentation). It
// returns the results of the languages finished, and stops at the first
// error or when ctx is cancelled (after the batch in progress), keeping the
// finished batches of the current language for the next run.
func (m *Model) Extract(ctx context.Context, set *data.Parallel, opts Options) ([]Result, error) {
	if set == nil {
		return nil, errors.New("extract: no prompt set")
	}
	if err := set.Validate(); err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	if err := opts.defaults(set, m); err != nil {
		return nil, err
	}
	m.fitFloat32AMX(set.Len(), &opts)
	var results []Result
	for _, lang := range set.Langs {
		r, err := m.extractLang(ctx, lang, set.Texts[lang], &opts)
		if err != nil {
			return results, fmt.Errorf("extract: %s, %s: %w", m.ID, lang, err)
		}
		results = append(results, r)
	}
	return results, nil
}

// fitFloat32AMX keeps a float32 model off the AMX kernel (as NoAMX) when,
// before its weights are read, the memory plan says that it fits the
// machine with its linear weights as float32 but not as the AMX path's
// three bfloat16 parts (6 bytes a value instead of 4): slower, but it
// runs. The plan is for the longest texts the options allow; a note says
// so.
func (m *Model) fitFloat32AMX(texts int, opts *Options) {
	if m.model != nil || opts.IgnoreMemoryPlan || m.dtype() != dtypes.Float32 || !m.usesAMX() {
		return
	}
	withAMX := m.PlanMemory(opts.BatchSize, opts.MaxLength, texts)
	if withAMX.Fits() {
		return
	}
	m.noAMX = true
	if without := m.PlanMemory(opts.BatchSize, opts.MaxLength, texts); !without.Fits() {
		m.noAMX = false // neither fits: the usual plan check reports it
		return
	}
	if opts.Progress != nil {
		opts.Progress(Progress{Note: fmt.Sprintf("float32 on the AMX kernel would need %s, more than the %s available: "+
			"running on the backend's float32 kernel (slower; --dtype bfloat16 runs on AMX in half the memory)",
			gb(withAMX.Total), gb(withAMX.Available))})
	}
}

// encoded holds the token ids of one language's texts.
type encoded struct {
	ids   [][]int32
	stats TokenStats
}

// encode tokenizes the texts, truncated to opts.MaxLength.
func (m *Model) encode(texts []string, opts *Options) (*encoded, error) {
	special := !opts.NoSpecialTokens
	full, err := m.Tokenizer.EncodeBatch(texts, special)
	if err != nil {
		return nil, err
	}
	cut, err := m.Tokenizer.EncodeBatchTruncated(texts, special, opts.MaxLength)
	if err != nil {
		return nil, err
	}
	e := &encoded{ids: make([][]int32, len(texts))}
	lengths := make([]int, len(texts))
	for i, ids := range cut {
		if len(ids) == 0 {
			return nil, fmt.Errorf("text %d (%.40q) gives no tokens", i, texts[i])
		}
		e.ids[i] = make([]int32, len(ids))
		for j, id := range ids {
			if id < 0 || id >= m.Config.VocabSize {
				return nil, fmt.Errorf("text %d: token id %d is outside the model's vocabulary (%d): tokenizer and model do not match",
					i, id, m.Config.VocabSize)
			}
			e.ids[i][j] = int32(id)
		}
		lengths[i] = len(ids)
		if len(full[i]) > len(ids) {
			e.stats.Truncated++
		}
	}
	e.stats.summarize(lengths)
	return e, nil
}

func (s *TokenStats) summarize(lengths []int) {
	sorted := slices.Clone(lengths)
	slices.Sort(sorted)
	n := len(sorted)
	for _, l := range sorted {
		s.Total += l
	}
	s.Min, s.Max = sorted[0], sorted[n-1]
	s.Mean = float64(s.Total) / float64(n)
	if n%2 == 1 {
		s.Median = float64(sorted[n/2])
	} else {
		s.Median = float64(sorted[n/2-1]+sorted[n/2]) / 2
	}
}

// runFingerprint identifies the inputs of one language's run: the model,
// the texts, and every option that changes the saved values.
func (m *Model) runFingerprint(lang string, texts []string, opts *Options) string {
	h := sha256.New()
	add := func(s string) {
		_ = binary.Write(h, binary.LittleEndian, uint64(len(s)))
		io.WriteString(h, s)
	}
	add(fmt.Sprintf("layersim-extract/%d", manifestVersion))
	add(m.Fingerprint)
	add(m.DType)
	if m.usesAMX() {
		// The AMX kernel's states differ from the backend's by bfloat16
		// rounding: a run resumed or skipped must have used the same.
		add("linear_kernel=amx")
	}
	if k := m.backendInfo().Kind; k != string(lbackend.Go) {
		// Backends round differently (XLA fuses and orders its sums its
		// own way): a run resumed or skipped must have used the same kind.
		// Go adds nothing, so that the sets it wrote before stay valid.
		add("backend=" + k)
	}
	add(lang)
	add(fmt.Sprintf("pooling=%s max_length=%d special=%t layer0=%t", opts.Pooling, opts.MaxLength, !opts.NoSpecialTokens, opts.EmbeddingLayer))
	add(fmt.Sprint(len(texts)))
	for _, t := range texts {
		add(t)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// backendInfo describes the backend the model runs on: the one given to
// Load or started, else the kind backend.Default names (NewDefaultBackend's,
// started at the first forward pass).
func (m *Model) backendInfo() lbackend.Info {
	if m.backend != nil {
		return lbackend.Describe(m.backend)
	}
	s, err := lbackend.Default()
	if err != nil { // NewDefaultBackend fails on it before any forward pass
		return lbackend.Info{Kind: string(lbackend.Go)}
	}
	return lbackend.Info{Kind: string(s.Kind)}
}

// extractLang runs one language.
func (m *Model) extractLang(ctx context.Context, lang string, texts []string, opts *Options) (Result, error) {
	start := time.Now()
	res := Result{Lang: lang, Batch: opts.BatchSize}
	report := func(p Progress) {
		if opts.Progress != nil {
			p.Model, p.Lang, p.Total = opts.Slug, lang, len(texts)
			p.Elapsed = time.Since(start)
			opts.Progress(p)
		}
	}
	enc, err := m.encode(texts, opts)
	if err != nil {
		return res, err
	}
	res.Tokens = enc.stats
	fp := m.runFingerprint(lang, texts, opts)
	actDir := filepath.Join(opts.Out, "models", opts.Slug, lang, "activations")
	base := opts.Slug + "_" + lang + "_" + opts.Split
	res.Path = filepath.Join(actDir, base+".npz")
	layer0Path := filepath.Join(actDir, base+".layer_0.npy")

	if !opts.Force && m.existing(opts, lang, fp, len(texts), layer0Path) {
		res.Skipped = true
		res.Elapsed = time.Since(start)
		report(Progress{Done: len(texts), Note: "skipped: " + res.Path + " is up to date"})
		return res, nil
	}
	// A shard runs and writes its range of the texts only; the meta.json of
	// its part holds the whole run's fields (fingerprint, token counts).
	tg, err := m.target(opts, lang, fp, len(texts), actDir, base)
	if err != nil {
		return res, err
	}
	if tg.part != nil {
		res.Path = tg.path
		if !opts.Force && m.existingPart(opts, lang, fp, tg) {
			res.Skipped = true
			res.Elapsed = time.Since(start)
			report(Progress{Done: tg.part.Rows, Note: "skipped: " + res.Path + " is up to date"})
			return res, nil
		}
	}
	texts = texts[tg.lo:tg.hi] // report's Total follows
	enc = &encoded{ids: enc.ids[tg.lo:tg.hi], stats: enc.stats}

	// states[l] holds the saved layer l (block l+1, or the embedding first
	// with EmbeddingLayer) of every text, in text order.
	L, H := m.Config.NumLayers, m.Config.HiddenSize
	first := 1 // first state of llm.Pooled that is saved
	if opts.EmbeddingLayer {
		first = 0
	}
	nSaved := L + 1 - first
	n := len(texts)
	states := make([][]float32, nSaved)
	for l := range states {
		states[l] = make([]float32, n*H)
	}
	done := make([]bool, n)
	put := func(rows []int, chunkData []float32) { // chunkData is [nSaved, len(rows), H]
		for l := range nSaved {
			for j, r := range rows {
				copy(states[l][r*H:(r+1)*H], chunkData[(l*len(rows)+j)*H:(l*len(rows)+j+1)*H])
			}
		}
		for _, r := range rows {
			done[r] = true
		}
	}
	want := manifest{Version: manifestVersion, Fingerprint: tg.fingerprint, Model: m.ID, Lang: lang, Texts: n, Layers: nSaved, Hidden: H}
	part, resumed, stale, err := openPartial(tg.partial, want, put)
	if err != nil {
		return res, err
	}
	res.Resumed, res.Stale = resumed, stale
	tokensLeft := 0
	for i, ids := range enc.ids {
		if !done[i] {
			tokensLeft += len(ids)
		}
	}
	note := ""
	if resumed > 0 {
		note = fmt.Sprintf("resumed %d of %d texts from %s", resumed, n, part.dir)
	} else if stale {
		note = "discarded a checkpoint of another run"
	}
	report(Progress{Done: resumed, TokensLeft: tokensLeft, BatchSize: res.Batch, Note: note})

	// The batches of texts not yet done: texts of similar length within
	// each block, the longest batches first (see batches).
	order := batches(enc.ids, done, opts.Block, opts.BatchSize)
	left := 0
	for _, b := range order {
		left += len(b)
	}

	limit := opts.MemoryLimit
	if m.model == nil && left > 0 && !opts.IgnoreMemoryPlan {
		// Before the weights are read: does the model fit?
		seq := len(enc.ids[order[0][0]])
		plan := m.PlanMemory(min(res.Batch, left), seq, n)
		if plan.Fits() {
			report(Progress{Done: resumed, TokensLeft: tokensLeft, BatchSize: res.Batch, Note: "memory plan: " + plan.String()})
		} else {
			room := plan.Available - plan.Weights - plan.Fixed
			if room < plan.LoadPeak || EstimateBatchBytesDType(m.Config, m.dtype(), 1, seq) > room {
				return res, fmt.Errorf("%w: %s", ErrDoesNotFit, plan)
			}
			// The weights fit: bound the batches to what is left.
			if limit == 0 || room < limit {
				limit = room
			}
			report(Progress{Done: resumed, TokensLeft: tokensLeft, BatchSize: res.Batch,
				Note: fmt.Sprintf("memory plan: %s; batches bounded to %s of activations", plan, gb(room))})
		}
	}

	runStart := time.Now()
	tokensRun := 0
	pos := 0 // texts finished in this call
	for len(order) > 0 {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		// A batch larger than the current batch size (after a halving) runs
		// in pieces.
		rows := order[0][:min(res.Batch, len(order[0]))]
		seq := len(enc.ids[rows[0]])
		if limit > 0 {
			for len(rows) > 1 && EstimateBatchBytesDType(m.Config, m.dtype(), len(rows), seq) > limit {
				h := Halving{Rows: len(rows), Tokens: seq, From: res.Batch, To: max(len(rows)/2, 1),
					Reason: fmt.Sprintf("estimated %d bytes > memory limit %d", EstimateBatchBytesDType(m.Config, m.dtype(), len(rows), seq), limit)}
				res.Halvings = append(res.Halvings, h)
				res.Batch = h.To
				rows = rows[:h.To]
				report(Progress{Done: resumed + pos, TokensLeft: tokensLeft, BatchSize: res.Batch,
					Note: fmt.Sprintf("batch size %d → %d: %s", h.From, h.To, h.Reason)})
			}
		}
		tokens, mask := padRight(enc.ids, rows)
		res.Forward++
		m.loadTime = 0
		fstart := time.Now()
		pooled, err := m.forward(tokens, mask, llm.PositionsFromMask(mask), opts.Pooling)
		res.Load += m.loadTime
		res.Forwarding += time.Since(fstart) - m.loadTime
		if err != nil {
			if IsOutOfMemory(err) && len(rows) > 1 {
				h := Halving{Rows: len(rows), Tokens: seq, From: res.Batch, To: max(len(rows)/2, 1), Reason: err.Error()}
				res.Halvings = append(res.Halvings, h)
				res.Batch = h.To
				report(Progress{Done: resumed + pos, TokensLeft: tokensLeft, BatchSize: res.Batch,
					Note: fmt.Sprintf("out of memory on %d×%d tokens: batch size %d → %d", len(rows), seq, h.From, h.To)})
				continue
			}
			return res, err
		}
		chunkData, err := selectPooling(pooled, opts.Pooling, first, len(rows), H)
		if err != nil {
			return res, err
		}
		if err := part.add(rows, chunkData); err != nil {
			return res, err
		}
		put(rows, chunkData)
		if order[0] = order[0][len(rows):]; len(order[0]) == 0 {
			order = order[1:]
		}
		pos += len(rows)
		res.Computed += len(rows)
		for _, r := range rows {
			tokensRun += len(enc.ids[r])
			tokensLeft -= len(enc.ids[r])
		}
		if res.Forwarding > 0 {
			res.TokensPerSec = float64(tokensRun) / res.Forwarding.Seconds()
		}
		p := Progress{Done: resumed + pos, Tokens: tokensRun, TokensLeft: tokensLeft, BatchSize: res.Batch}
		if el := time.Since(runStart); el > 0 {
			p.TokensPerSec = float64(tokensRun) / el.Seconds()
			p.ETA = time.Duration(float64(tokensLeft) / p.TokensPerSec * float64(time.Second))
		}
		report(p)
	}

	if err := m.write(opts, lang, fp, texts, enc.stats, states, layer0Path, tg); err != nil {
		return res, err
	}
	if err := part.remove(); err != nil {
		return res, err
	}
	res.Elapsed = time.Since(start)
	report(Progress{Done: n, Tokens: tokensRun, BatchSize: res.Batch, Note: "wrote " + res.Path})
	return res, nil
}

// padRight builds the batch of the given texts, padded on the right with
// id 0 to the longest one, and its attention mask.
func padRight(ids [][]int32, rows []int) (tokens, mask [][]int32) {
	seq := 0
	for _, r := range rows {
		seq = max(seq, len(ids[r]))
	}
	tokens = make([][]int32, len(rows))
	mask = make([][]int32, len(rows))
	for b, r := range rows {
		tokens[b] = make([]int32, seq)
		mask[b] = make([]int32, seq)
		copy(tokens[b], ids[r])
		for s := range ids[r] {
			mask[b][s] = 1
		}
	}
	return tokens, mask
}

// selectPooling flattens the chosen pooling of states first..L into
// [L+1−first, rows, hidden].
func selectPooling(p *llm.Pooled, pooling Pooling, first, rows, hidden int) ([]float32, error) {
	var src [][][]float32
	switch pooling {
	case PoolLast:
		src = p.Last
	case PoolMean:
		src = p.Mean
	case PoolMax:
		src = p.Max
	}
	if len(src) <= first {
		return nil, fmt.Errorf("forward pass returned %d states", len(src))
	}
	src = src[first:]
	out := make([]float32, 0, len(src)*rows*hidden)
	for l, layer := range src {
		if len(layer) != rows {
			return nil, fmt.Errorf("forward pass returned %d rows for layer %d, want %d", len(layer), l+first, rows)
		}
		for r, v := range layer {
			if len(v) != hidden {
				return nil, fmt.Errorf("forward pass returned %d values for row %d of layer %d, want %d", len(v), r, l+first, hidden)
			}
			out = append(out, v...)
		}
	}
	return out, nil
}

// existing reports whether the set is already written by a run with the
// same fingerprint (and, when asked for, its embedding layer file).
func (m *Model) existing(opts *Options, lang, fp string, n int, layer0Path string) bool {
	s, err := artifacts.Open(opts.Out, opts.Slug, lang, opts.Split)
	if err != nil {
		return false
	}
	var got string
	if raw, ok := s.Meta.Extra["fingerprint"]; !ok || json.Unmarshal(raw, &got) != nil || got != fp {
		return false
	}
	if s.Meta.NumLayers != m.Config.NumLayers || s.Rows != n || s.Meta.TextsCount != n {
		return false
	}
	if opts.EmbeddingLayer {
		if _, err := os.Stat(layer0Path); err != nil {
			return false
		}
	}
	return true
}

// write writes the final artifact set: the embedding layer file first (when
// asked for), then the layers, texts and meta through artifacts.Writer.
// A shard's part gets the whole set's fields and its "shard" field, its
// embedding layer file in the parts folder (tg).
func (m *Model) write(opts *Options, lang, fp string, texts []string, stats TokenStats, states [][]float32, layer0Path string, tg target) error {
	n, H := len(texts), m.Config.HiddenSize
	extra := map[string]any{
		"revision":           m.Revision,
		"pooling":            string(opts.Pooling),
		"tokens_per_text":    stats,
		"add_special_tokens": !opts.NoSpecialTokens,
		"padding_side":       "right",
		"layers":             "layer_k is the output of block k (hidden_states[k]); layer_L has the final norm applied",
		"fingerprint":        fp,
	}
	if m.Revision == "" {
		delete(extra, "revision")
	}
	// Which kernel ran the linear layers: the values differ between the
	// two by bfloat16 rounding (see package llm, "AMX").
	extra["linear_kernel"] = "backend"
	if m.usesAMX() {
		extra["linear_kernel"] = "amx"
	}
	// Which backend ran: go, or xla with its plugin and PJRT version.
	extra["backend"] = m.backendInfo()
	// How the texts were batched (the values can differ in the last bits
	// between batchings): merge compares them before calling a set up to
	// date.
	extra["batch_size"], extra["block"] = opts.BatchSize, opts.Block
	if opts.EmbeddingLayer {
		extra["embedding_layer"] = filepath.Base(layer0Path) // the whole set's name, in a part too
	}
	if tg.part != nil {
		extra[artifacts.PartsKey] = tg.shardField(opts)
		layer0Path = tg.layer0
	}
	if opts.EmbeddingLayer {
		if err := hf.WriteFileAtomic(layer0Path, encodeNPY([]int{n, H}, states[0])); err != nil {
			return err
		}
		states = states[1:]
	} else if err := os.Remove(layer0Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing a stale %s: %w", layer0Path, err)
	}
	meta := artifacts.Meta{
		ModelID: m.ID, NumLayers: m.Config.NumLayers, Dtype: m.DType, MaxLength: opts.MaxLength,
		TextsCount: n, Subset: opts.Subset, Extra: map[string]json.RawMessage{},
	}
	for k, v := range extra {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		meta.Extra[k] = b
	}
	var w *artifacts.Writer
	var err error
	if tg.part != nil {
		w, err = artifacts.CreatePart(opts.Out, meta, opts.Slug, lang, opts.Split, tg.part.Index, tg.part.Count, artifacts.NPZ)
	} else {
		w, err = artifacts.Create(opts.Out, meta, opts.Slug, lang, opts.Split, artifacts.NPZ)
	}
	if err != nil {
		return err
	}
	defer w.Abort()
	for _, layer := range states {
		if err := w.WriteLayer(artifacts.Matrix{Rows: n, Cols: H, Data: layer}); err != nil {
			return err
		}
	}
	return w.Commit(texts)
}
