package cka

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheckpointResume stops a tiles-route job after a few tiles, resumes it
// from its checkpoint, and gets the uninterrupted result exactly: the saved
// float64 sums go on in the same order.
func TestCheckpointResume(t *testing.T) {
	layers, _ := randomLayers(11, 53, []int{16, 40, 16, 7})
	for _, c := range []struct {
		name string
		opt  Options
	}{
		{"standardized", Options{TileSize: 7}},
		{"debiased spilled groups", Options{Measure: MeasureDebiased, TileSize: 7, MemoryBudget: 26656}},
		{"minibatch", Options{Minibatch: 8}},
	} {
		t.Run(c.name, func(t *testing.T) {
			want, err := AllPairs(layers, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "cka.checkpoint")
			opt := c.opt
			opt.Checkpoint, opt.CheckpointEvery = path, time.Nanosecond
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opt.Context = ctx
			const stopAfter = 3 // tiles
			opt.Progress = func(done, total int) {
				if done == len(layers)+stopAfter {
					cancel()
				}
			}
			if _, err := AllPairs(layers, opt); !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled run: %v", err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("no checkpoint after the cancelled run: %v", err)
			}
			opt.Context, opt.Progress = nil, nil
			got, err := AllPairs(layers, opt)
			if err != nil {
				t.Fatal(err)
			}
			if got.ResumedTiles != stopAfter || got.CheckpointIgnored != "" {
				t.Errorf("resumed %d tiles (%q), want %d", got.ResumedTiles, got.CheckpointIgnored, stopAfter)
			}
			for i := range layers {
				for j := range layers {
					if g, w := got.HSIC.At(i, j), want.HSIC.At(i, j); g != w {
						t.Errorf("HSIC(%d,%d) = %v resumed, %v uninterrupted", i, j, g, w)
					}
				}
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("checkpoint left after success: %v", err)
			}
		})
	}
}

// TestCheckpointOtherJob: a checkpoint of other layers, or a damaged one, is
// not used, says why, and the result is still right.
func TestCheckpointOtherJob(t *testing.T) {
	layers, _ := randomLayers(12, 40, []int{9, 9, 9})
	other, _ := randomLayers(13, 40, []int{9, 9, 9})
	opt := Options{TileSize: 8, CheckpointEvery: time.Nanosecond}
	want, err := AllPairs(layers, opt)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// A checkpoint of the other layers, left by a cancelled run.
	partial := func(src Slice) string {
		path := filepath.Join(dir, "cka.checkpoint")
		ctx, cancel := context.WithCancel(context.Background())
		o := opt
		o.Checkpoint, o.Context = path, ctx
		o.Progress = func(done, total int) {
			if done == len(src)+2 {
				cancel()
			}
		}
		if _, err := AllPairs(src, o); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled run: %v", err)
		}
		return path
	}
	damage := map[string]func(path string){
		"other layers": func(string) {},
		"truncated": func(path string) {
			data, _ := os.ReadFile(path)
			os.WriteFile(path, data[:len(data)-9], 0o644)
		},
		"flipped byte": func(path string) {
			data, _ := os.ReadFile(path)
			data[len(data)/2] ^= 0x40
			os.WriteFile(path, data, 0o644)
		},
	}
	for name, fn := range damage {
		t.Run(name, func(t *testing.T) {
			src := other
			if name != "other layers" {
				src = layers
			}
			path := partial(src)
			fn(path)
			o := opt
			o.Checkpoint = path
			got, err := AllPairs(layers, o)
			if err != nil {
				t.Fatal(err)
			}
			if got.ResumedTiles != 0 || got.CheckpointIgnored == "" {
				t.Errorf("resumed %d tiles, ignored %q; want 0 and a reason", got.ResumedTiles, got.CheckpointIgnored)
			}
			if !strings.Contains(got.CheckpointIgnored, path) {
				t.Errorf("reason %q does not name the file", got.CheckpointIgnored)
			}
			for i := range layers {
				for j := range layers {
					if g, w := got.CKA.At(i, j), want.CKA.At(i, j); g != w {
						t.Errorf("CKA(%d,%d) = %v, want %v", i, j, g, w)
					}
				}
			}
		})
	}
}

// FuzzCheckpointLoad: any file content is either a valid checkpoint of this
// job or refused, never a panic.
func FuzzCheckpointLoad(f *testing.F) {
	cp := &checkpoint{L: 2, n: 9, nb: 3, rowSums: true}
	cp.fingerprint[0] = 7
	done := make([]bool, 9)
	acc := []float64{1, 2, 3, 4}
	rs := [][]float64{make([]float64, 9), make([]float64, 9)}
	dir := f.TempDir()
	cp.path = filepath.Join(dir, "seed")
	if err := cp.save(done, acc, rs); err != nil {
		f.Fatal(err)
	}
	seed, _ := os.ReadFile(cp.path)
	f.Add(seed)
	f.Add([]byte("LSCKACP1"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "cp")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c := *cp
		c.path = path
		d, a := make([]bool, 9), make([]float64, 4)
		r := [][]float64{make([]float64, 9), make([]float64, 9)}
		count, err := c.load(d, a, r)
		if err != nil && count != 0 {
			t.Errorf("refused with %d tiles", count)
		}
		if count < 0 || count > 9 {
			t.Errorf("%d tiles", count)
		}
	})
}
