package extract

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/hf"
	"github.com/layersim/layersim/lcka/shard"
)

// target is where one language's run writes: the whole set, or with
// Options.Shard a part of it.
type target struct {
	lo, hi      int    // the texts run
	fingerprint string // of the checkpoint: the run's, with the range for a part
	partial     string // the checkpoint folder

	part   *artifacts.Part // nil for the whole set
	path   string          // the part's .npz
	layer0 string          // the part's embedding layer file
}

// shardField is the "shard" field of a part's meta.json: the part
// (artifacts.Part) and how the texts were cut and batched, which every
// part of a set must share.
type shardField struct {
	artifacts.Part
	Block     int `json:"block"`
	BatchSize int `json:"batch_size"`
}

func (tg target) shardField(opts *Options) shardField {
	return shardField{Part: *tg.part, Block: opts.Block, BatchSize: opts.BatchSize}
}

// target returns where the run of n texts of lang writes.
func (m *Model) target(opts *Options, lang, fp string, n int, actDir, base string) (target, error) {
	if !opts.Shard.Sharded() {
		return target{lo: 0, hi: n, fingerprint: fp, partial: filepath.Join(actDir, base+".partial")}, nil
	}
	lo, hi, err := shard.Range(n, opts.Block, opts.Shard)
	if err != nil {
		return target{}, err
	}
	dir, err := artifacts.PartsDir(opts.Out, opts.Slug, lang, opts.Split)
	if err != nil {
		return target{}, err
	}
	s := opts.Shard
	pb := filepath.Join(dir, artifacts.PartBase(s.Index, s.Count))
	h := sha256.Sum256(fmt.Appendf(nil, "%s shard %d/%d texts %d..%d", fp, s.Index, s.Count, lo, hi))
	return target{
		lo: lo, hi: hi, fingerprint: hex.EncodeToString(h[:]), partial: pb + ".partial",
		part: &artifacts.Part{Index: s.Index, Count: s.Count, First: lo, Rows: hi - lo, Texts: n},
		path: pb + ".npz", layer0: pb + ".layer_0.npy",
	}, nil
}

// existingPart reports whether the part tg is already written by a run with
// the same fingerprint, cut and batched the same way.
func (m *Model) existingPart(opts *Options, lang, fp string, tg target) bool {
	s, err := artifacts.OpenPart(opts.Out, opts.Slug, lang, opts.Split, tg.part.Index, tg.part.Count)
	if err != nil {
		return false
	}
	var got string
	if raw, ok := s.Meta.Extra["fingerprint"]; !ok || json.Unmarshal(raw, &got) != nil || got != fp {
		return false
	}
	var f shardField
	if raw, ok := s.Meta.Extra[artifacts.PartsKey]; !ok || json.Unmarshal(raw, &f) != nil || f != tg.shardField(opts) {
		return false
	}
	if s.Meta.NumLayers != m.Config.NumLayers || s.Rows != tg.part.Rows || s.Meta.TextsCount != tg.part.Rows {
		return false
	}
	if opts.EmbeddingLayer {
		if _, err := os.Stat(tg.layer0); err != nil {
			return false
		}
	}
	return true
}

// batches cuts the texts that are not done into the batches of a run:
// within each block of block consecutive texts, by token count, longest
// first (ties in text order), size texts a batch; then all batches by
// their longest text, longest first (ties in block order), so that memory
// trouble shows at the start. The batches are formed over all texts and
// the done ones left out after, so a resumed run and the shards of a run
// (whole blocks each) run the batches of the run in one piece: same rows,
// same padded shape, and so the same values bit for bit.
func batches(ids [][]int32, done []bool, block, size int) [][]int {
	var out [][]int
	for lo := 0; lo < len(ids); lo += block {
		order := make([]int, 0, block)
		for i := lo; i < min(lo+block, len(ids)); i++ {
			order = append(order, i)
		}
		sort.SliceStable(order, func(a, b int) bool { return len(ids[order[a]]) > len(ids[order[b]]) })
		for s := 0; s < len(order); s += size {
			out = append(out, order[s:min(s+size, len(order))])
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return len(ids[out[a][0]]) > len(ids[out[b][0]]) })
	kept := out[:0]
	for _, b := range out {
		b = slices.DeleteFunc(b, func(r int) bool { return done[r] })
		if len(b) > 0 {
			kept = append(kept, b)
		}
	}
	return kept
}

// MergeOptions configure MergeAll.
type MergeOptions struct {
	Split       string // only sets of this split; "" for all
	Force       bool   // write the set even when it is up to date
	RemoveParts bool   // remove the parts folder once the set is written
}

// MergeResult describes the merge of one set.
type MergeResult struct {
	Slug, Lang, Split string
	Path              string // the .npz written
	Parts, Rows       int
	Skipped           bool // the set was up to date
}

// Merge writes the set of model slug on language lang and split split
// under root from its parts (written by Extract with Options.Shard). The
// parts must be complete and agree (artifacts.OpenParts: same model,
// dtype, pooling, options and fingerprint, rows with no gap or overlap),
// and each must hold the range shard.Range gives it. The set is written
// as an unsharded run writes it, so it is byte for byte the set that run
// would have written on the same machine (when no batch was halved). A
// set already written with the parts' fingerprint is left as it is
// (Skipped) unless force.
func Merge(root, slug, lang, split string, force bool) (MergeResult, error) {
	res := MergeResult{Slug: slug, Lang: lang, Split: split}
	s, err := artifacts.OpenParts(root, slug, lang, split)
	if err != nil {
		return res, err
	}
	parts := s.Parts()
	res.Parts, res.Rows = len(parts), s.Rows
	for _, p := range parts {
		var f shardField
		if err := json.Unmarshal(p.Meta.Extra[artifacts.PartsKey], &f); err != nil {
			return res, fmt.Errorf("extract: %s: meta.json %q: %w", p.Path, artifacts.PartsKey, err)
		}
		lo, hi, err := shard.Range(f.Texts, f.Block, shard.Spec{Index: f.Index, Count: f.Count})
		if err != nil {
			return res, fmt.Errorf("extract: %s: %w", p.Path, err)
		}
		if lo != f.First || hi != f.First+f.Rows {
			return res, fmt.Errorf("extract: %s holds texts %d..%d, but shard %d/%d of %d texts in blocks of %d is %d..%d",
				p.Path, f.First, f.First+f.Rows-1, f.Index, f.Count, f.Texts, f.Block, lo, hi-1)
		}
	}
	var fp string
	if raw, ok := s.Meta.Extra["fingerprint"]; !ok || json.Unmarshal(raw, &fp) != nil || fp == "" {
		return res, fmt.Errorf("extract: %s: the parts have no fingerprint: not written by extract --shard", s.Path)
	}
	actDir := filepath.Dir(s.Path)
	base := slug + "_" + lang + "_" + split
	res.Path = filepath.Join(actDir, base+".npz")
	if !force {
		if old, err := artifacts.Open(root, slug, lang, split); err == nil && old.Format != artifacts.Parts {
			var got string
			raw, ok := old.Meta.Extra["fingerprint"]
			same := func(key string) bool {
				a, okA := old.Meta.Extra[key]
				b, okB := s.Meta.Extra[key]
				return okA && okB && string(a) == string(b)
			}
			if ok && json.Unmarshal(raw, &got) == nil && got == fp && old.Rows == s.Rows && old.Meta.TextsCount == s.Rows &&
				same("batch_size") && same("block") {
				res.Skipped = true
				return res, nil
			}
		}
	}

	// The embedding layer first, as Extract writes it.
	layer0 := filepath.Join(actDir, base+".layer_0.npy")
	var name string
	if raw, ok := s.Meta.Extra["embedding_layer"]; ok {
		if err := json.Unmarshal(raw, &name); err != nil || name != filepath.Base(layer0) {
			return res, fmt.Errorf("extract: %s: meta.json embedding_layer %s, want %q", s.Path, raw, filepath.Base(layer0))
		}
		hidden := s.Cols[len(s.Cols)-1]
		var data []float32
		for _, p := range parts {
			f, _ := p.PartOf()
			path := filepath.Join(s.Path, artifacts.PartBase(f.Index, f.Count)+".layer_0.npy")
			d, err := readNPY(path, []int{p.Rows, hidden})
			if err != nil {
				return res, fmt.Errorf("extract: the embedding layer of %s: %w", p.Path, err)
			}
			data = append(data, d...)
		}
		// Written beside the set and moved in place once the set is
		// committed, so that a failed merge leaves the old set whole.
		if err := hf.WriteFileAtomic(layer0+".merging", encodeNPY([]int{s.Rows, hidden}, data)); err != nil {
			return res, err
		}
		defer os.Remove(layer0 + ".merging")
	}
	texts, err := s.Texts()
	if err != nil {
		return res, err
	}
	w, err := artifacts.Create(root, s.Meta, slug, lang, split, artifacts.NPZ)
	if err != nil {
		return res, err
	}
	defer w.Abort()
	for _, k := range s.Layers {
		m, err := s.Layer(k)
		if err != nil {
			return res, err
		}
		if err := w.WriteLayer(m); err != nil {
			return res, err
		}
	}
	if err := w.Commit(texts); err != nil {
		return res, err
	}
	if name != "" {
		if err := os.Rename(layer0+".merging", layer0); err != nil {
			return res, fmt.Errorf("extract: %w", err)
		}
	} else if err := os.Remove(layer0); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("extract: removing a stale %s: %w", layer0, err)
	}
	return res, nil
}

// MergeAll merges every set under root that has a parts folder
// (<slug>_<lang>_<split>.parts), in the order of slug, language and
// split. It goes on past a set that fails and returns every error, each
// naming its set and parts.
func MergeAll(root string, opts MergeOptions) ([]MergeResult, error) {
	models := filepath.Join(root, "models")
	slugs, err := os.ReadDir(models)
	if err != nil {
		return nil, fmt.Errorf("extract: no parts folder under %s: %w", models, err)
	}
	var results []MergeResult
	var errs []error
	for _, slug := range slugs {
		langs, err := os.ReadDir(filepath.Join(models, slug.Name()))
		if err != nil || !slug.IsDir() {
			continue
		}
		for _, lang := range langs {
			dir := filepath.Join(models, slug.Name(), lang.Name(), "activations")
			des, err := os.ReadDir(dir)
			if err != nil {
				continue
			}
			prefix := slug.Name() + "_" + lang.Name() + "_"
			for _, de := range des {
				split, ok := strings.CutSuffix(strings.TrimPrefix(de.Name(), prefix), ".parts")
				if !ok || !de.IsDir() || !strings.HasPrefix(de.Name(), prefix) || strings.Contains(split, ".") || split == "" {
					continue
				}
				if opts.Split != "" && split != opts.Split {
					continue
				}
				r, err := Merge(root, slug.Name(), lang.Name(), split, opts.Force)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if opts.RemoveParts {
					if err := os.RemoveAll(filepath.Join(dir, de.Name())); err != nil {
						errs = append(errs, fmt.Errorf("extract: removing the parts: %w", err))
					}
				}
				results = append(results, r)
			}
		}
	}
	if len(results) == 0 && len(errs) == 0 {
		return nil, fmt.Errorf("extract: no parts folder under %s", models)
	}
	return results, errors.Join(errs...)
}
