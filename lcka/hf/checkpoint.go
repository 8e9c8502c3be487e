package hf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Standard file names of a Hugging Face model folder.
const (
	ConfigFile          = "config.json"
	TokenizerFile       = "tokenizer.json"
	TokenizerConfigFile = "tokenizer_config.json"
	GenerationFile      = "generation_config.json"
	SafetensorsFile     = "model.safetensors"
	SafetensorsIndex    = "model.safetensors.index.json"
)

// Checkpoint is the set of safetensors files of a model folder, single or
// sharded, with tensors looked up by name.
type Checkpoint struct {
	Dir    string
	files  []*File
	byName map[string]*Tensor
	names  []string
}

// Index is the content of model.safetensors.index.json.
type Index struct {
	Metadata  map[string]any    `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"`
}

// ReadIndex reads and checks a sharded checkpoint's index file: every shard
// must be a plain file name of the same folder.
func ReadIndex(path string) (*Index, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hf: %w", err)
	}
	var idx Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("hf: %s: %v", path, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("hf: %s: empty or missing weight_map", path)
	}
	for name, shard := range idx.WeightMap {
		if shard == "" || shard != filepath.Base(shard) || shard == "." || shard == ".." || strings.ContainsRune(shard, '\\') {
			return nil, fmt.Errorf("hf: %s: tensor %q maps to invalid shard name %q", path, name, shard)
		}
	}
	return &idx, nil
}

// Shards returns the distinct shard file names of the index, sorted.
func (idx *Index) Shards() []string {
	set := map[string]bool{}
	for _, s := range idx.WeightMap {
		set[s] = true
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// OpenCheckpoint opens the safetensors weights of a model folder: the shards
// listed by model.safetensors.index.json when present, else
// model.safetensors, else the folder's only *.safetensors file.
func OpenCheckpoint(dir string) (*Checkpoint, error) {
	c := &Checkpoint{Dir: dir, byName: map[string]*Tensor{}}
	idxPath := filepath.Join(dir, SafetensorsIndex)
	if _, err := os.Stat(idxPath); err == nil {
		if err := c.openSharded(idxPath); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("hf: %w", err)
	}
	single := filepath.Join(dir, SafetensorsFile)
	if _, err := os.Stat(single); err != nil {
		matches, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
		if len(matches) != 1 {
			return nil, fmt.Errorf("hf: %s has no %s, no %s and %d other *.safetensors files (want exactly one)", dir, SafetensorsIndex, SafetensorsFile, len(matches))
		}
		single = matches[0]
	}
	if err := c.add(single, nil); err != nil {
		c.Close()
		return nil, err
	}
	sort.Strings(c.names)
	return c, nil
}

func (c *Checkpoint) openSharded(idxPath string) error {
	idx, err := ReadIndex(idxPath)
	if err != nil {
		return err
	}
	for _, shard := range idx.Shards() {
		want := map[string]bool{}
		for name, s := range idx.WeightMap {
			if s == shard {
				want[name] = true
			}
		}
		if err := c.add(filepath.Join(c.Dir, shard), want); err != nil {
			return err
		}
	}
	sort.Strings(c.names)
	return nil
}

// add opens one file; when want is non-nil, every name in it must be in the
// file, and only those names are indexed.
func (c *Checkpoint) add(path string, want map[string]bool) error {
	f, err := OpenSafetensors(path)
	if err != nil {
		return err
	}
	c.files = append(c.files, f)
	for name := range want {
		if _, ok := f.tensors[name]; !ok {
			return fmt.Errorf("hf: %s lists tensor %q in %s, but that file does not hold it", SafetensorsIndex, name, filepath.Base(path))
		}
	}
	for _, name := range f.names {
		if want != nil && !want[name] {
			continue
		}
		if _, dup := c.byName[name]; dup {
			return fmt.Errorf("hf: tensor %q appears in more than one file (again in %s)", name, path)
		}
		c.byName[name] = f.tensors[name]
		c.names = append(c.names, name)
	}
	return nil
}

// Names returns the names of all tensors, sorted.
func (c *Checkpoint) Names() []string { return append([]string(nil), c.names...) }

// Has reports whether the checkpoint holds a tensor with this name.
func (c *Checkpoint) Has(name string) bool {
	_, ok := c.byName[name]
	return ok
}

// Tensor returns the named tensor.
func (c *Checkpoint) Tensor(name string) (*Tensor, error) {
	t, ok := c.byName[name]
	if !ok {
		return nil, fmt.Errorf("hf: checkpoint %s has no tensor %q", c.Dir, name)
	}
	if t.file.closed.Load() {
		return nil, fmt.Errorf("%w: %s", ErrClosed, t.file.path)
	}
	return t, nil
}

// Close releases all files of the checkpoint.
func (c *Checkpoint) Close() error {
	var errs []error
	for _, f := range c.files {
		if err := f.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
