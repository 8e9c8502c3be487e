package extract

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/gomlx/compute"

	lbackend "github.com/layersim/layersim/lcka/backend"
)

// renamedBackend is the Go backend under another name, standing for a
// backend of another kind (an XLA one cannot start here). GoMLX ties
// tensors to the backend value, so a model on it runs its forward passes
// on the Go model's (Model.forward), and only its name differs.
type renamedBackend struct {
	compute.Backend
	name string
}

func (b renamedBackend) Name() string   { return b.name }
func (b renamedBackend) String() string { return b.name }

// metaBackend reads meta.json's "backend" of the en set under out.
func metaBackend(t *testing.T, out string) lbackend.Info {
	t.Helper()
	s, _ := readSet(t, out, "tiny-a", "en")
	var got lbackend.Info
	if err := json.Unmarshal(s.Meta.Extra["backend"], &got); err != nil {
		t.Fatalf("meta.json backend %s: %v", s.Meta.Extra["backend"], err)
	}
	return got
}

// TestBackendProvenance: meta.json names the backend that ran, and a
// checkpoint or a set left by a backend of another kind is recomputed, not
// resumed or reused. A go run is stopped after one batch; the run on a
// backend named "fake" discards its checkpoint; the go run after it
// recomputes the fake's set; a last go run skips.
func TestBackendProvenance(t *testing.T) {
	m := loadTiny(t)
	set := promptSet(t, 8)
	set, _ = set.Select([]string{"en"})
	out, ref := t.TempDir(), t.TempDir()
	if _, err := m.Extract(context.Background(), set, Options{Out: ref, BatchSize: 4}); err != nil {
		t.Fatal(err)
	}
	if got := metaBackend(t, ref); got != (lbackend.Info{Kind: "go"}) {
		t.Errorf("go run: meta.json backend %+v, want kind go alone", got)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := m.Extract(ctx, set, Options{Out: out, BatchSize: 4, Progress: func(p Progress) {
		if p.Note == "" && p.Done > 0 {
			cancel() // as if killed after the first batch
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v, want context.Canceled", err)
	}

	fake, err := Load(context.Background(), tinyModel(t), LoadOptions{Backend: renamedBackend{testBackend(t), "fake"}})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	fake.forward = m.llmForward
	opts := &Options{MaxLength: DefaultMaxLength, Pooling: PoolLast}
	if fpGo, fpFake := m.runFingerprint("en", set.Texts["en"], opts), fake.runFingerprint("en", set.Texts["en"], opts); fpGo == fpFake {
		t.Error("the go and fake backends' runs have the same fingerprint")
	}
	var c countingForward
	c.wrap(fake)
	res, err := fake.Extract(context.Background(), set, Options{Out: out, BatchSize: 4})
	if err != nil || !res[0].Stale || res[0].Resumed != 0 || res[0].Computed != 8 || c.calls != 2 {
		t.Fatalf("fake backend on the go run's checkpoint: %v, %+v, %d calls; want it discarded and 8 texts in 2 calls", err, res, c.calls)
	}
	if got := metaBackend(t, out); got != (lbackend.Info{Kind: "fake"}) {
		t.Errorf("fake run: meta.json backend %+v, want kind fake", got)
	}
	// The fake is the Go backend: its states are the go run's.
	_, got := readSet(t, out, "tiny-a", "en")
	_, want := readSet(t, ref, "tiny-a", "en")
	for k := range want {
		if !slices.Equal(got[k].Data, want[k].Data) {
			t.Errorf("layer %d: the fake backend's states differ from the go run's", k+1)
		}
	}

	var c2 countingForward
	c2.wrap(m)
	res, err = m.Extract(context.Background(), set, Options{Out: out, BatchSize: 4})
	if err != nil || res[0].Skipped || c2.calls != 2 {
		t.Fatalf("go run on the fake's set: %v, %+v, %d calls; want it recomputed", err, res, c2.calls)
	}
	if got := metaBackend(t, out); got.Kind != "go" {
		t.Errorf("go run after the fake: meta.json backend %+v", got)
	}
	res, err = m.Extract(context.Background(), set, Options{Out: out, BatchSize: 4})
	if err != nil || !res[0].Skipped || c2.calls != 2 {
		t.Fatalf("go run again: %v, %+v, %d calls; want skipped", err, res, c2.calls)
	}
}
