package hf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeShard(t *testing.T, path string, names ...string) {
	t.Helper()
	var ts []TensorData
	for i, n := range names {
		ts = append(ts, TensorData{Name: n, DType: BF16, Shape: []int{2}, Values: []float32{float32(i), -float32(i)}})
	}
	if err := WriteSafetensors(path, ts, nil); err != nil {
		t.Fatal(err)
	}
}

func writeIndex(t *testing.T, dir string, weightMap map[string]string) {
	t.Helper()
	data, _ := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 16}, "weight_map": weightMap})
	if err := os.WriteFile(filepath.Join(dir, SafetensorsIndex), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCheckpointSharded(t *testing.T) {
	dir := t.TempDir()
	writeShard(t, filepath.Join(dir, "model-00001-of-00002.safetensors"), "a", "b")
	writeShard(t, filepath.Join(dir, "model-00002-of-00002.safetensors"), "c", "d")
	writeIndex(t, dir, map[string]string{"a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
		"c": "model-00002-of-00002.safetensors", "d": "model-00002-of-00002.safetensors"})
	c, err := OpenCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Names(); !reflect.DeepEqual(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("names = %v", got)
	}
	d, err := c.Tensor("d")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := d.Float32(); err != nil || !reflect.DeepEqual(v, []float32{1, -1}) {
		t.Errorf("d = %v, %v", v, err)
	}
	if !c.Has("a") || c.Has("z") {
		t.Error("Has is wrong")
	}
	if _, err := c.Tensor("z"); err == nil || !strings.Contains(err.Error(), `"z"`) {
		t.Errorf("missing tensor: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Tensor("a"); err == nil {
		t.Error("Tensor after Close: want an error")
	}
}

func TestCheckpointSingle(t *testing.T) {
	dir := t.TempDir()
	writeShard(t, filepath.Join(dir, SafetensorsFile), "w")
	c, err := OpenCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.Names(); !reflect.DeepEqual(got, []string{"w"}) {
		t.Errorf("names = %v", got)
	}
	// A lone file with another name is accepted too.
	dir2 := t.TempDir()
	writeShard(t, filepath.Join(dir2, "weights.safetensors"), "x")
	c2, err := OpenCheckpoint(dir2)
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
}

func TestCheckpointErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"empty folder", func(t *testing.T, dir string) {}, "no model.safetensors.index.json"},
		{"missing shard", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{"a": "model-00001-of-00001.safetensors"})
		}, "model-00001-of-00001.safetensors"},
		{"tensor not in shard", func(t *testing.T, dir string) {
			writeShard(t, filepath.Join(dir, "s1.safetensors"), "a")
			writeIndex(t, dir, map[string]string{"a": "s1.safetensors", "b": "s1.safetensors"})
		}, `tensor "b" in s1.safetensors`},
		{"corrupt shard", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{"a": "s1.safetensors", "b": "s1.safetensors"})
			os.WriteFile(filepath.Join(dir, "s1.safetensors"), []byte("garbage!"), 0o644)
		}, "s1.safetensors: header length"},
		{"path escape", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{"a": "../evil.safetensors"})
		}, "invalid shard name"},
		{"bad index", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, SafetensorsIndex), []byte(`{"weight_map":{}}`), 0o644)
		}, "empty or missing weight_map"},
		{"two lone files", func(t *testing.T, dir string) {
			writeShard(t, filepath.Join(dir, "x.safetensors"), "a")
			writeShard(t, filepath.Join(dir, "y.safetensors"), "a")
		}, "2 other *.safetensors"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			c, err := OpenCheckpoint(dir)
			if err == nil {
				c.Close()
				t.Fatalf("want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
