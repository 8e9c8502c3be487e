package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/data"
	"github.com/layersim/layersim/lcka/shard"
)

// treeFiles reads every file under root/models but the parts folders, by
// path relative to root.
func treeFiles(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(filepath.Join(root, "models"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasSuffix(d.Name(), ".parts") {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		out[rel] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedKeys(m map[string][]byte) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}

// TestShardMergeByteIdentical runs the built-in prompts on tiny-a whole and
// in N = 1, 2, 3 and 7 shards, merges the parts, and compares every file
// of the merged sets with the unsharded run's, byte for byte: the .npz,
// meta.json, texts.json and the embedding layer.
func TestShardMergeByteIdentical(t *testing.T) {
	m := loadTiny(t)
	set := data.Builtin() // 132 prompts: 11 blocks of 12
	base := Options{BatchSize: 4, Block: 12, EmbeddingLayer: true, Pooling: PoolMean}
	ref := t.TempDir()
	o := base
	o.Out = ref
	if _, err := m.Extract(context.Background(), set, o); err != nil {
		t.Fatal(err)
	}
	want := treeFiles(t, ref)
	if len(want) != 2*4 { // npz, meta, texts, layer_0 for en and hi
		t.Fatalf("the unsharded run wrote %v", sortedKeys(want))
	}
	for _, n := range []int{1, 2, 3, 7} {
		root := t.TempDir()
		rows := 0
		for i := range n {
			o := base
			o.Out, o.Shard = root, shard.Spec{Index: i, Count: n}
			res, err := m.Extract(context.Background(), set, o)
			if err != nil {
				t.Fatalf("shard %d/%d: %v", i, n, err)
			}
			rows += res[0].Computed
		}
		if rows != set.Len() {
			t.Errorf("N=%d: the shards computed %d texts of %d", n, rows, set.Len())
		}
		// Before the merge, the parts read as the whole set.
		whole, err := artifacts.Open(root, m.Slug(), "hi", "test")
		if err != nil {
			t.Fatalf("N=%d: reading the parts: %v", n, err)
		}
		if whole.Format != artifacts.Parts || whole.Rows != set.Len() || len(whole.Parts()) != n {
			t.Errorf("N=%d: parts read as %v of %d rows in %d parts", n, whole.Format, whole.Rows, len(whole.Parts()))
		}
		results, err := MergeAll(root, MergeOptions{})
		if err != nil {
			t.Fatalf("N=%d: %v", n, err)
		}
		if len(results) != 2 || results[0].Parts != n || results[0].Rows != set.Len() {
			t.Errorf("N=%d: merge results %+v", n, results)
		}
		got := treeFiles(t, root)
		if !slices.Equal(sortedKeys(got), sortedKeys(want)) {
			t.Fatalf("N=%d: merged files %v, unsharded %v", n, sortedKeys(got), sortedKeys(want))
		}
		for path, b := range want {
			if !bytes.Equal(got[path], b) {
				t.Errorf("N=%d: %s differs from the unsharded run's (%d vs %d bytes)", n, path, len(got[path]), len(b))
			}
		}
		// The set read from its parts holds the merged set's values.
		merged, err := artifacts.Open(root, m.Slug(), "hi", "test")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []int{1, merged.Meta.NumLayers} {
			a, err := whole.Layer(k)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := merged.Layer(k)
			if !slices.Equal(a.Data, b.Data) {
				t.Errorf("N=%d: layer_%d read from the parts differs from the merged set's", n, k)
			}
		}
		// Merging again finds the set up to date.
		again, err := MergeAll(root, MergeOptions{RemoveParts: true})
		if err != nil || !again[0].Skipped || !again[1].Skipped {
			t.Errorf("N=%d: second merge: %+v, %v", n, again, err)
		}
		if d, _ := artifacts.PartsDir(root, m.Slug(), "en", "test"); exists(d) {
			t.Errorf("N=%d: RemoveParts left %s", n, d)
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestBatchesWithinBlocks checks the batches of a run: within blocks, by
// length, the same for a shard as for the whole run, and the done texts
// left out without changing the others.
func TestBatchesWithinBlocks(t *testing.T) {
	lens := []int{3, 9, 1, 9, 4, 7, 2, 8, 5, 5}
	ids := make([][]int32, len(lens))
	for i, l := range lens {
		ids[i] = make([]int32, l)
	}
	none := make([]bool, len(ids))
	got := batches(ids, none, 4, 3)
	want := [][]int{{1, 3, 0}, {7, 5, 4}, {8, 9}, {6}, {2}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("batches = %v, want %v", got, want)
	}
	// Shard 1 of 2 in blocks of 4 is texts 4..9: the same batches, less
	// the other shard's.
	lo, hi, err := shard.Range(len(ids), 4, shard.Spec{Index: 1, Count: 2})
	if err != nil || lo != 4 || hi != 10 {
		t.Fatalf("Range = %d, %d, %v", lo, hi, err)
	}
	part := batches(ids[lo:hi], none[lo:hi], 4, 3)
	var shifted [][]int
	for _, b := range want {
		if b[0] >= lo {
			c := slices.Clone(b)
			for i := range c {
				c[i] -= lo
			}
			shifted = append(shifted, c)
		}
	}
	if !slices.EqualFunc(part, shifted, slices.Equal) {
		t.Errorf("shard batches = %v, want %v", part, shifted)
	}
	done := slices.Clone(none)
	done[3], done[8], done[9] = true, true, true
	if got := batches(ids, done, 4, 3); !slices.EqualFunc(got, [][]int{{1, 0}, {7, 5, 4}, {6}, {2}}, slices.Equal) {
		t.Errorf("batches with texts done = %v", got)
	}
}

// TestShardResumeAndSkip interrupts a shard, resumes it, and runs it again:
// the finished part is skipped.
func TestShardResumeAndSkip(t *testing.T) {
	m := loadTiny(t)
	set := promptSet(t, 24)
	root := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	o := Options{Out: root, BatchSize: 2, Block: 4, Shard: shard.Spec{Index: 1, Count: 3}}
	o.Progress = func(p Progress) {
		if p.Done > 0 && p.Note == "" {
			if calls++; calls == 2 {
				cancel()
			}
		}
	}
	if _, err := m.Extract(ctx, set, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	o.Progress = nil
	res, err := m.Extract(context.Background(), set, o)
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Resumed != 4 || r.Computed != 4 || r.Skipped {
		t.Errorf("resumed run: %+v, want 4 resumed and 4 computed of shard 1/3's 8 texts", r)
	}
	dir, _ := artifacts.PartsDir(root, m.Slug(), set.Langs[0], "test")
	if !strings.HasPrefix(res[0].Path, dir) {
		t.Errorf("part written to %s, not in %s", res[0].Path, dir)
	}
	if exists(filepath.Join(dir, "part-1-of-3.partial")) {
		t.Error("the part's checkpoint was left behind")
	}
	res, err = m.Extract(context.Background(), set, o)
	if err != nil || !res[0].Skipped || !res[1].Skipped {
		t.Errorf("third run: %+v, %v; want both languages skipped", res, err)
	}
	// Another batch size is another cut of the batches: the part is
	// computed again.
	o.BatchSize = 3
	if res, err = m.Extract(context.Background(), set, o); err != nil || res[0].Skipped {
		t.Errorf("run with another batch size: %+v, %v; want recomputed", res, err)
	}
	// More shards than blocks.
	o.Shard = shard.Spec{Index: 0, Count: 7}
	if _, err := m.Extract(context.Background(), set, o); err == nil || !strings.Contains(err.Error(), "at most 6 shard") {
		t.Errorf("7 shards of 6 blocks: %v", err)
	}
}

// TestMergeErrors writes parts that do not make a set and checks that the
// merge names what is wrong.
func TestMergeErrors(t *testing.T) {
	m := loadTiny(t)
	set, err := promptSet(t, 16).Select([]string{"en"})
	if err != nil {
		t.Fatal(err)
	}
	run := func(root string, i, n int, mod func(*Options)) {
		t.Helper()
		o := Options{Out: root, BatchSize: 4, Block: 4, Shard: shard.Spec{Index: i, Count: n}}
		if mod != nil {
			mod(&o)
		}
		if _, err := m.Extract(context.Background(), set, o); err != nil {
			t.Fatal(err)
		}
	}
	merge := func(root string) error {
		_, err := MergeAll(root, MergeOptions{})
		return err
	}
	wantErr := func(name string, err error, parts ...string) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: merged", name)
			return
		}
		for _, p := range parts {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("%s: error %q does not name %q", name, err, p)
			}
		}
	}

	root := t.TempDir()
	run(root, 0, 3, nil)
	run(root, 2, 3, nil)
	wantErr("missing part", merge(root), "missing part(s) 1 of 3", "part-1-of-3")
	if _, err := artifacts.Open(root, m.Slug(), "en", "test"); err == nil {
		t.Error("an incomplete set of parts opened")
	}

	root = t.TempDir()
	run(root, 0, 2, nil)
	run(root, 1, 2, func(o *Options) { o.Pooling = PoolMax })
	wantErr("other pooling", merge(root), "part-1-of-2.npz", `pooling "max" here, "last" in part-0-of-2.npz`, "fingerprint")

	root = t.TempDir()
	run(root, 0, 2, nil)
	run(root, 1, 2, func(o *Options) { o.MaxLength = 8 })
	wantErr("other max length", merge(root), "part-1-of-2.npz", "max_length 8 here, 256")

	root = t.TempDir()
	run(root, 0, 2, nil)
	run(root, 1, 2, func(o *Options) { o.Block = 2 })
	wantErr("other block", merge(root), "shard.block 2 here, 4")

	root = t.TempDir()
	run(root, 0, 2, nil)
	run(root, 1, 3, nil)
	wantErr("two shardings", merge(root), "different shardings", "part-0-of-2", "part-1-of-3")

	// Parts whose meta.json claim other rows: a gap, then an overlap.
	for _, c := range []struct {
		first, texts int
		want         string
	}{{9, 17, "rows 8..8 are in no part"}, {6, 16, "rows 6..7 are in two parts"}} {
		root = t.TempDir()
		run(root, 0, 2, nil)
		run(root, 1, 2, nil)
		dir, _ := artifacts.PartsDir(root, m.Slug(), "en", "test")
		for i := range 2 {
			path := filepath.Join(dir, artifacts.PartBase(i, 2)+".meta.json")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var meta artifacts.Meta
			if err := json.Unmarshal(b, &meta); err != nil {
				t.Fatal(err)
			}
			var f shardField
			if err := json.Unmarshal(meta.Extra[artifacts.PartsKey], &f); err != nil {
				t.Fatal(err)
			}
			f.Texts = c.texts
			if i == 1 {
				f.First = c.first
			}
			meta.Extra[artifacts.PartsKey], _ = json.Marshal(f)
			if err := artifacts.WriteJSON(path, meta); err != nil {
				t.Fatal(err)
			}
		}
		err = merge(root)
		wantErr("first row "+c.want, err, c.want)
	}
}

// TestMergeNotUpToDateAcrossBatchings: a set written unsharded with
// another batch size has the parts' fingerprint but may differ in the last
// bits: merge writes the parts' set over it instead of calling it up to
// date (and removing the parts).
func TestMergeNotUpToDateAcrossBatchings(t *testing.T) {
	m := loadTiny(t)
	set := promptSet(t, 24)
	root := t.TempDir()
	for i := range 2 {
		o := Options{Out: root, BatchSize: 4, Block: 12, Shard: shard.Spec{Index: i, Count: 2}}
		if _, err := m.Extract(context.Background(), set, o); err != nil {
			t.Fatal(err)
		}
	}
	// The whole set, written beside the parts with another batch size.
	o := Options{Out: root, BatchSize: 8, Block: 12, Force: true}
	if _, err := m.Extract(context.Background(), set, o); err != nil {
		t.Fatal(err)
	}
	if s, err := artifacts.Open(root, m.Slug(), "en", "test"); err != nil || string(s.Meta.Extra["batch_size"]) != "8" {
		t.Fatalf("the unsharded set: %v", err)
	}
	results, err := MergeAll(root, MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Skipped {
			t.Errorf("%s: a set of batch size 8 counted as up to date for parts of batch size 4", r.Lang)
		}
	}
	s, err := artifacts.Open(root, m.Slug(), "en", "test")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(s.Meta.Extra["batch_size"]); got != "4" {
		t.Errorf("merged set's batch_size %s, want 4", got)
	}
}
