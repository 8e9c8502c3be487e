package backend

import (
	"encoding/json"
	"testing"
)

// TestDescribe: a Go backend is described by its kind alone, as meta.json
// records it; nil by the zero Info. (An XLA backend needs a plugin, which
// the machines the tests run on lack; its fields are read from go-xla's
// backend and plugin.)
func TestDescribe(t *testing.T) {
	b, err := New(Spec{Kind: Go}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	got := Describe(b)
	if got != (Info{Kind: "go"}) {
		t.Errorf("Describe(go backend) = %+v", got)
	}
	if j, _ := json.Marshal(got); string(j) != `{"kind":"go"}` {
		t.Errorf("as JSON: %s", j)
	}
	if got := Describe(nil); got != (Info{}) {
		t.Errorf("Describe(nil) = %+v", got)
	}
	full := Info{Kind: "xla", Platform: "cuda", Plugin: "/p/xla_cuda_plugin.so", PJRTVersion: "0.114"}
	if j, _ := json.Marshal(full); string(j) != `{"kind":"xla","platform":"cuda","plugin":"/p/xla_cuda_plugin.so","pjrt_version":"0.114"}` {
		t.Errorf("as JSON: %s", j)
	}
}
