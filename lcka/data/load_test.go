package data

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/hf"
)

func TestParseMMLUSpec(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ in, folder, split string }{
		{"", "", ""},
		{"test", "", "test"},
		{"dev", "", "dev"},
		{"validation", "", "validation"},
		{"/data/gmmlu", "/data/gmmlu", ""},
		{"/data/gmmlu:dev", "/data/gmmlu", "dev"},
		{"C:/x:test", "C:/x", "test"},
		{"./rel/dir", "./rel/dir", ""},
		{dir + ":test", dir, "test"},
	} {
		folder, split := parseMMLUSpec(tc.in)
		if folder != tc.folder || split != tc.split {
			t.Errorf("parseMMLUSpec(%q) = %q, %q; want %q, %q", tc.in, folder, split, tc.folder, tc.split)
		}
	}
}

func TestLoadSpecs(t *testing.T) {
	s := loadSample(t)
	dir := t.TempDir()
	writeParquet(t, filepath.Join(dir, "gm", "en", "test-00000-of-00001.parquet"), fixtureRows(s, "en"))
	writeParquet(t, filepath.Join(dir, "gm", "hi", "test-00000-of-00001.parquet"), fixtureRows(s, "hi"))
	jsonl := write(t, dir, "p.jsonl", "{\"id\":\"a\",\"en\":\"one\",\"hi\":\"एक\",\"fr\":\"un\"}\n{\"id\":\"b\",\"en\":\"two\",\"hi\":\"दो\",\"fr\":\"deux\"}\n")
	b, _ := json.Marshal(s.En)
	write(t, dir, "q_en.json", string(b))
	b, _ = json.Marshal(s.Hi)
	write(t, dir, "q_hi.json", string(b))

	for _, tc := range []struct {
		spec  string
		langs []string
		n     int
		len   int
		first string // First text of the first language.
	}{
		{"builtin", nil, 0, Builtin().Len(), Builtin().Texts["en"][0]},
		{"builtin", []string{"hi"}, 5, 5, Builtin().Texts["hi"][0]},
		{"builtin", nil, 100000, Builtin().Len(), Builtin().Texts["en"][0]},
		{"global-mmlu-lite:" + filepath.Join(dir, "gm"), nil, 0, 21, s.En[0]},
		{"global-mmlu-lite:" + filepath.Join(dir, "gm") + ":test", []string{"hi", "en"}, 3, 3, s.Hi[0]},
		{"file:" + jsonl, nil, 0, 2, "one"},
		{jsonl, []string{"fr"}, 1, 1, "un"},
		{"file:" + filepath.Join(dir, "q_{lang}.json"), nil, 10, 10, s.En[0]},
	} {
		p, err := Load(tc.spec, tc.langs, tc.n, Options{})
		if err != nil {
			t.Errorf("Load(%q, %v, %d): %v", tc.spec, tc.langs, tc.n, err)
			continue
		}
		if p.Len() != tc.len || p.Texts[p.Langs[0]][0] != tc.first {
			t.Errorf("Load(%q, %v, %d): %d items, first %.40q; want %d, %.40q", tc.spec, tc.langs, tc.n, p.Len(), p.Texts[p.Langs[0]][0], tc.len, tc.first)
		}
		if tc.langs == nil && strings.Contains(tc.spec, "p.jsonl") && len(p.Langs) != 3 {
			t.Errorf("languages found in %s: %v", tc.spec, p.Langs)
		}
	}
	for _, tc := range []struct {
		spec  string
		langs []string
		n     int
		want  string
	}{
		{"builtin", []string{"fr"}, 0, `no language "fr" (it has en, hi)`},
		{"builtin", nil, -1, "negative number"},
		{"nonsense", nil, 0, "unknown prompt set"},
		{"", nil, 0, "empty prompt set spec"},
		{"file:", nil, 0, "without a path"},
		{"file:" + filepath.Join(dir, "missing.jsonl"), nil, 0, "no such file"},
		{"global-mmlu-lite:" + filepath.Join(dir, "nope"), nil, 0, "is not a folder"},
		{"global-mmlu-lite:" + filepath.Join(dir, "gm") + ":dev", nil, 0, "no en/dev-*.parquet"},
		{"global-mmlu-lite:validation", nil, 0, "splits test and dev"},
		{jsonl, []string{"de"}, 0, `no "de" text`},
	} {
		_, err := Load(tc.spec, tc.langs, tc.n, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%q, %v, %d) err = %v, want %q", tc.spec, tc.langs, tc.n, err, tc.want)
		}
	}
}

// TestGlobalMMLULiteHub loads the data set through a fake hub that serves
// the dataset's file list and resolve URLs.
func TestGlobalMMLULiteHub(t *testing.T) {
	s := loadSample(t)
	const commit = "fedcba9876543210fedcba9876543210fedcba98"
	files := map[string][]byte{
		"en/test-00000-of-00001.parquet": parquetBytes(t, fixtureRows(s, "en")),
		"hi/test-00000-of-00001.parquet": parquetBytes(t, fixtureRows(s, "hi")),
		"hi/dev-00000-of-00001.parquet":  parquetBytes(t, fixtureRows(s, "hi")[:2]),
		"README.md":                      []byte("# Global-MMLU-Lite"),
	}
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests = append(requests, r.Method+" "+r.URL.Path)
		const repo = "/" + GlobalMMLULiteRepo
		if r.URL.Path == "/api/datasets"+repo+"/revision/main" {
			var sib []map[string]string
			for name := range files {
				sib = append(sib, map[string]string{"rfilename": name})
			}
			json.NewEncoder(w).Encode(map[string]any{"sha": commit, "siblings": sib})
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, "/datasets"+repo+"/resolve/"+commit+"/")
		content, found := files[name]
		if !ok || !found {
			w.Header().Set("X-Error-Code", "EntryNotFound")
			http.NotFound(w, r)
			return
		}
		sum := sha1.Sum(content)
		w.Header().Set("X-Repo-Commit", commit)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
		w.Write(content)
	}))
	defer srv.Close()
	t.Setenv("HF_HUB_OFFLINE", "")
	t.Setenv("HF_TOKEN", "")
	cache := t.TempDir()
	opts := Options{Hub: hf.Options{Endpoint: srv.URL, CacheDir: cache}}
	p, err := Load("global-mmlu-lite", nil, 0, opts)
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != 21 || p.Texts["hi"][20] != s.Hi[20] || p.Name != "global-mmlu-lite:test" {
		t.Errorf("%s: %d pairs", p.Name, p.Len())
	}
	if got := filepath.Join(cache, "datasets--CohereForAI--Global-MMLU-Lite", "snapshots", commit, "hi", "test-00000-of-00001.parquet"); !fileExists(got) {
		t.Errorf("%s not in the cache", got)
	}
	for _, r := range requests {
		if strings.Contains(r, "README") || strings.Contains(r, "dev-") {
			t.Errorf("fetched a file that was not needed: %s", r)
		}
	}
	// Offline: from the cache, without the server.
	srv.Close()
	opts.Hub.Offline = true
	if p, err := Load("global-mmlu-lite:test", []string{"en", "hi"}, 4, opts); err != nil || p.Len() != 4 {
		t.Errorf("offline: %v", err)
	}
	if _, err := Load("global-mmlu-lite:dev", []string{"en", "hi"}, 0, opts); err == nil || !strings.Contains(err.Error(), "en/dev-*.parquet") {
		t.Errorf("offline, uncached split: %v", err)
	}
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
