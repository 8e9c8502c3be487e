package extract

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/hf"
)

// manifestFile is the name of the manifest inside a partial folder.
const manifestFile = "manifest.json"

// manifestVersion changes when the layout of partial folders does.
const manifestVersion = 1

// manifest describes the finished batches of an interrupted run.
type manifest struct {
	Version     int     `json:"version"`
	Fingerprint string  `json:"fingerprint"`
	Model       string  `json:"model_id"`
	Lang        string  `json:"lang"`
	Texts       int     `json:"texts"`
	Layers      int     `json:"layers"` // arrays per batch: L, or L+1 with the embedding layer
	Hidden      int     `json:"hidden"`
	Chunks      []chunk `json:"chunks"`
}

// chunk is one finished batch: the rows of texts Rows (indices into the
// language's texts), saved as File, a float32 array [Layers, len(Rows), Hidden].
type chunk struct {
	File string `json:"file"`
	Rows []int  `json:"rows"`
}

// partial is the checkpoint folder of one (model, language, split).
type partial struct {
	dir string
	m   manifest
}

// openPartial opens or creates the checkpoint folder dir for a run
// described by want. A folder left by a run with another fingerprint or
// shape, or whose manifest cannot be read, is emptied (stale reports it).
// The finished chunks are passed to load; a chunk that fails to read is
// dropped and its rows are computed again.
func openPartial(dir string, want manifest, load func(rows []int, data []float32)) (p *partial, resumed int, stale bool, err error) {
	p = &partial{dir: dir, m: want}
	p.m.Chunks = nil
	b, err := os.ReadFile(filepath.Join(dir, manifestFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Nothing to resume; a folder without manifest holds nothing finished.
		if err := os.RemoveAll(dir); err != nil {
			return nil, 0, false, fmt.Errorf("extract: %w", err)
		}
	case err != nil:
		return nil, 0, false, fmt.Errorf("extract: %w", err)
	default:
		var old manifest
		if json.Unmarshal(b, &old) != nil || old.Version != want.Version || old.Fingerprint != want.Fingerprint ||
			old.Texts != want.Texts || old.Layers != want.Layers || old.Hidden != want.Hidden {
			stale = true
			if err := os.RemoveAll(dir); err != nil {
				return nil, 0, false, fmt.Errorf("extract: %w", err)
			}
			break
		}
		seen := make([]bool, want.Texts)
		for _, c := range old.Chunks {
			if !validChunk(c, seen) {
				continue
			}
			data, err := readNPY(filepath.Join(dir, c.File), []int{want.Layers, len(c.Rows), want.Hidden})
			if err != nil {
				continue
			}
			for _, r := range c.Rows {
				seen[r] = true
			}
			load(c.Rows, data)
			resumed += len(c.Rows)
			p.m.Chunks = append(p.m.Chunks, c)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, false, fmt.Errorf("extract: %w", err)
	}
	return p, resumed, stale, nil
}

// validChunk checks a chunk's file name and rows against rows seen so far.
func validChunk(c chunk, seen []bool) bool {
	if c.File == "" || c.File != filepath.Base(c.File) || c.File[0] == '.' || len(c.Rows) == 0 {
		return false
	}
	local := map[int]bool{}
	for _, r := range c.Rows {
		if r < 0 || r >= len(seen) || seen[r] || local[r] {
			return false
		}
		local[r] = true
	}
	return true
}

// add saves a finished batch: its array first, then the manifest naming it,
// both atomically, so that a run killed at any point leaves a manifest that
// lists only complete files.
func (p *partial) add(rows []int, data []float32) error {
	name := fmt.Sprintf("chunk-%06d.npy", len(p.m.Chunks))
	for i := 0; p.has(name); i++ {
		name = fmt.Sprintf("chunk-%06d-%d.npy", len(p.m.Chunks), i)
	}
	if err := hf.WriteFileAtomic(filepath.Join(p.dir, name), encodeNPY([]int{p.m.Layers, len(rows), p.m.Hidden}, data)); err != nil {
		return fmt.Errorf("extract: checkpoint: %w", err)
	}
	p.m.Chunks = append(p.m.Chunks, chunk{File: name, Rows: append([]int(nil), rows...)})
	if err := artifacts.WriteJSON(filepath.Join(p.dir, manifestFile), p.m); err != nil {
		return fmt.Errorf("extract: checkpoint: %w", err)
	}
	return nil
}

func (p *partial) has(name string) bool {
	for _, c := range p.m.Chunks {
		if c.File == name {
			return true
		}
	}
	return false
}

// remove deletes the folder once the final artifact is written.
func (p *partial) remove() error {
	if err := os.RemoveAll(p.dir); err != nil {
		return fmt.Errorf("extract: removing the checkpoint: %w", err)
	}
	return nil
}
