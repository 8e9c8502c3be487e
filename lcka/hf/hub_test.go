package hf

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeHub imitates the hub's resolve and api endpoints; large files are
// redirected to a second server, like the hub's file store.
type fakeHub struct {
	t       *testing.T
	hub     *httptest.Server
	cdn     *httptest.Server
	token   string
	repos   map[string]*fakeRepo // "model:org/name"
	renamed map[string]string    // Old id to new id.

	mu        sync.Mutex
	cdnGets   int
	ranges    []string
	breakOnce map[string]bool // sha256 → abort the first full GET halfway.
	corrupt   map[string]bool // sha256 → serve other bytes.
	sawAuth   bool            // The file store saw an Authorization header.
}

type fakeRepo struct {
	commit string
	gated  bool
	files  map[string][]byte
}

func isLFS(name string) bool {
	return strings.HasSuffix(name, ".safetensors") || strings.HasSuffix(name, ".parquet")
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func newFakeHub(t *testing.T) *fakeHub {
	f := &fakeHub{t: t, token: "hf_secret", repos: map[string]*fakeRepo{}, renamed: map[string]string{},
		breakOnce: map[string]bool{}, corrupt: map[string]bool{}}
	f.cdn = httptest.NewServer(http.HandlerFunc(f.serveCDN))
	f.hub = httptest.NewServer(http.HandlerFunc(f.serveHub))
	t.Cleanup(func() { f.hub.Close(); f.cdn.Close() })
	return f
}

func (f *fakeHub) blob(sha string) []byte {
	for _, r := range f.repos {
		for _, c := range r.files {
			if sha256Hex(c) == sha {
				return c
			}
		}
	}
	return nil
}

func (f *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	sha := strings.TrimPrefix(r.URL.Path, "/blob/")
	content := f.blob(sha)
	if content == nil {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	if r.Header.Get("Authorization") != "" {
		f.sawAuth = true
	}
	f.cdnGets++
	f.ranges = append(f.ranges, r.Header.Get("Range"))
	brk := f.breakOnce[sha] && r.Header.Get("Range") == ""
	f.breakOnce[sha] = false
	if f.corrupt[sha] {
		content = bytes.Repeat([]byte{'x'}, len(content))
	}
	f.mu.Unlock()
	if brk {
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		w.WriteHeader(http.StatusOK)
		w.Write(content[:len(content)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // Drop the connection mid-body.
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
}

func hubError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("X-Error-Code", code)
	http.Error(w, code, status)
}

func (f *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	kind := "model"
	if rest, ok := strings.CutPrefix(p, "/api/"); ok {
		// /api/{models|datasets}/{org}/{name}/revision/{rev}
		parts := strings.SplitN(rest, "/", 5)
		if len(parts) != 5 || parts[3] != "revision" {
			http.NotFound(w, r)
			return
		}
		repo, ok := f.repos[strings.TrimSuffix(parts[0], "s")+":"+parts[1]+"/"+parts[2]]
		if !ok {
			hubError(w, 404, "RepoNotFound")
			return
		}
		if rev := parts[4]; rev != "main" && rev != repo.commit {
			hubError(w, 404, "RevisionNotFound")
			return
		}
		var sib []map[string]string
		for name := range repo.files {
			sib = append(sib, map[string]string{"rfilename": name})
		}
		json.NewEncoder(w).Encode(map[string]any{"sha": repo.commit, "siblings": sib})
		return
	}
	if rest, ok := strings.CutPrefix(p, "/datasets/"); ok {
		kind, p = "dataset", "/"+rest
	}
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 5) // org, name, "resolve", rev, file
	if len(parts) != 5 || parts[2] != "resolve" {
		http.NotFound(w, r)
		return
	}
	id := parts[0] + "/" + parts[1]
	if to, ok := f.renamed[id]; ok {
		http.Redirect(w, r, "/"+to+"/resolve/"+parts[3]+"/"+parts[4], http.StatusTemporaryRedirect)
		return
	}
	repo, ok := f.repos[kind+":"+id]
	if !ok {
		hubError(w, 404, "RepoNotFound")
		return
	}
	if repo.gated {
		switch r.Header.Get("Authorization") {
		case "Bearer " + f.token:
		case "":
			hubError(w, 401, "GatedRepo")
			return
		default:
			hubError(w, 403, "GatedRepo")
			return
		}
	}
	if rev := parts[3]; rev != "main" && rev != repo.commit {
		hubError(w, 404, "RevisionNotFound")
		return
	}
	w.Header().Set("X-Repo-Commit", repo.commit)
	content, ok := repo.files[parts[4]]
	if !ok {
		hubError(w, 404, "EntryNotFound")
		return
	}
	if isLFS(parts[4]) {
		sha := sha256Hex(content)
		w.Header().Set("X-Linked-Etag", `"`+sha+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(content)))
		http.Redirect(w, r, f.cdn.URL+"/blob/"+sha, http.StatusFound)
		return
	}
	s := sha1.Sum(content)
	w.Header().Set("ETag", `"`+hex.EncodeToString(s[:])+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
}

// safetensorsBytes returns a small safetensors file holding the named
// tensors.
func safetensorsBytes(t *testing.T, names ...string) []byte {
	var ts []TensorData
	for i, n := range names {
		vals := make([]float32, 300)
		for j := range vals {
			vals[j] = float32(i*1000 + j)
		}
		ts = append(ts, TensorData{Name: n, DType: F32, Shape: []int{300}, Values: vals})
	}
	b, err := EncodeSafetensors(ts, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const tinyConfig = `{"model_type":"llama","hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,
"num_attention_heads":2,"vocab_size":10}`

func (f *fakeHub) addModel(id, commit string, sharded bool) *fakeRepo {
	files := map[string][]byte{
		"config.json":           []byte(tinyConfig),
		"tokenizer.json":        []byte(`{"model":{"type":"BPE"}}`),
		"tokenizer_config.json": []byte(`{}`),
		"README.md":             []byte("# tiny"),
	}
	if sharded {
		files["model-00001-of-00002.safetensors"] = safetensorsBytes(f.t, "a", "b")
		files["model-00002-of-00002.safetensors"] = safetensorsBytes(f.t, "c")
		idx, _ := json.Marshal(map[string]any{"weight_map": map[string]string{
			"a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors"}})
		files["model.safetensors.index.json"] = idx
	} else {
		files["model.safetensors"] = safetensorsBytes(f.t, "w")
	}
	r := &fakeRepo{commit: commit, files: files}
	f.repos["model:"+id] = r
	return r
}

const (
	commitA = "0123456789abcdef0123456789abcdef01234567"
	commitB = "89abcdef0123456789abcdef0123456789abcdef"
)

func clearHFEnv(t *testing.T) {
	for _, k := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_ENDPOINT", "HF_HUB_OFFLINE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"} {
		t.Setenv(k, "")
	}
	t.Setenv("HF_HOME", t.TempDir())
}

func TestResolveSharded(t *testing.T) {
	clearHFEnv(t)
	f := newFakeHub(t)
	f.addModel("org/tiny", commitA, true)
	cache := t.TempDir()
	var mu sync.Mutex
	last := map[string]Progress{}
	opts := Options{Endpoint: f.hub.URL, CacheDir: cache, Progress: func(p Progress) {
		mu.Lock()
		last[p.File] = p
		mu.Unlock()
	}}
	m, err := Resolve("org/tiny", opts)
	if err != nil {
		t.Fatal(err)
	}
	repoDir := filepath.Join(cache, "models--org--tiny")
	if want := filepath.Join(repoDir, "snapshots", commitA); m.Dir != want || m.Commit != commitA || m.Local || m.Cached {
		t.Errorf("model = %+v, want dir %s", m, want)
	}
	ref, _ := os.ReadFile(filepath.Join(repoDir, "refs", "main"))
	if string(ref) != commitA {
		t.Errorf("refs/main = %q", ref)
	}
	// Snapshot entries are relative links into blobs/ named by etag.
	shard := f.repos["model:org/tiny"].files["model-00002-of-00002.safetensors"]
	link, err := os.Readlink(filepath.Join(m.Dir, "model-00002-of-00002.safetensors"))
	if err != nil || link != filepath.Join("..", "..", "blobs", sha256Hex(shard)) {
		t.Errorf("link = %q, %v", link, err)
	}
	if _, err := os.Stat(filepath.Join(repoDir, ".no_exist", commitA, GenerationFile)); err != nil {
		t.Errorf("missing generation_config.json not recorded: %v", err)
	}
	if _, err := os.Stat(filepath.Join(m.Dir, "README.md")); err == nil {
		t.Error("README.md was downloaded but is not needed")
	}
	if p := last["model-00002-of-00002.safetensors"]; p.Done != int64(len(shard)) || p.Total != int64(len(shard)) {
		t.Errorf("last progress = %+v, want %d of %d", p, len(shard), len(shard))
	}
	// The folder is usable.
	cfg, err := LoadConfig(m.Dir)
	if err != nil || cfg.HiddenSize != 8 {
		t.Fatalf("config: %v, %v", cfg, err)
	}
	ck, err := OpenCheckpoint(m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := ck.Names(); strings.Join(got, ",") != "a,b,c" {
		t.Errorf("names = %v", got)
	}
	ck.Close()

	// Again: nothing is downloaded from the file store.
	before := f.cdnGets
	if _, err := Resolve("org/tiny", opts); err != nil {
		t.Fatal(err)
	}
	if f.cdnGets != before {
		t.Errorf("second Resolve fetched %d blobs again", f.cdnGets-before)
	}
	// Offline, with the hub gone: served from the cache.
	f.hub.Close()
	for _, o := range []Options{{CacheDir: cache, Offline: true}, {CacheDir: cache, Endpoint: f.hub.URL}} {
		m2, err := Resolve("org/tiny", o)
		if err != nil {
			t.Fatalf("offline=%v: %v", o.Offline, err)
		}
		if !m2.Cached || m2.Dir != m.Dir {
			t.Errorf("offline=%v: %+v", o.Offline, m2)
		}
	}
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("HF_HUB_CACHE", cache)
	if m3, err := Resolve("org/tiny", Options{}); err != nil || !m3.Cached {
		t.Errorf("HF_HUB_OFFLINE=1: %+v, %v", m3, err)
	}
	// Incomplete snapshot: offline use is refused, naming the missing file.
	os.Remove(filepath.Join(m.Dir, "model-00001-of-00002.safetensors"))
	_, err = Resolve("org/tiny", Options{})
	if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "model-00001-of-00002.safetensors") {
		t.Errorf("incomplete snapshot: %v", err)
	}
}

func TestResolveSingleAndRevision(t *testing.T) {
	clearHFEnv(t)
	f := newFakeHub(t)
	f.addModel("org/one", commitB, false)
	cache := t.TempDir()
	t.Setenv("HF_ENDPOINT", f.hub.URL)
	t.Setenv("HF_HUB_CACHE", cache)
	m, err := Resolve("org/one@"+commitB, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Commit != commitB || m.Revision != commitB {
		t.Errorf("model = %+v", m)
	}
	if _, err := os.Stat(filepath.Join(cache, "models--org--one", "refs")); err == nil {
		t.Error("a commit revision should not write refs/")
	}
	ck, err := OpenCheckpoint(m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	ck.Close()
	_, err = Resolve("org/one", Options{Revision: "v9"})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `unknown revision "v9"`) {
		t.Errorf("unknown revision: %v", err)
	}
	_, err = Resolve("org/nothing", Options{})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "unknown model repository org/nothing") {
		t.Errorf("unknown repo: %v", err)
	}
	// A renamed repository redirects inside the hub.
	f.renamed["old/one"] = "org/one"
	if _, err := Resolve("old/one", Options{}); err != nil {
		t.Errorf("renamed repo: %v", err)
	}
	// No safetensors weights.
	delete(f.repos["model:org/one"].files, "model.safetensors")
	f.repos["model:org/one"].commit = commitA
	_, err = Resolve("org/one", Options{})
	if err == nil || !strings.Contains(err.Error(), "only safetensors weights are supported") {
		t.Errorf("no weights: %v", err)
	}
}

func TestResolveGated(t *testing.T) {
	clearHFEnv(t)
	f := newFakeHub(t)
	f.addModel("meta/gated", commitA, true).gated = true
	cache := t.TempDir()
	_, err := Resolve("meta/gated", Options{Endpoint: f.hub.URL, CacheDir: cache})
	if !errors.Is(err, ErrGated) || !strings.Contains(err.Error(), "gated") || !strings.Contains(err.Error(), "HF_TOKEN") {
		t.Errorf("no token: %v", err)
	}
	_, err = Resolve("meta/gated", Options{Endpoint: f.hub.URL, CacheDir: cache, Token: "hf_wrong"})
	var he *HubError
	if !errors.As(err, &he) || he.Status != 403 || !strings.Contains(err.Error(), "refused") {
		t.Errorf("wrong token: %v", err)
	}
	t.Setenv("HF_TOKEN", f.token)
	if _, err := Resolve("meta/gated", Options{Endpoint: f.hub.URL, CacheDir: cache}); err != nil {
		t.Errorf("with HF_TOKEN: %v", err)
	}
	if f.sawAuth {
		t.Error("the token was sent to the file store on another host")
	}
	t.Setenv("HF_TOKEN", "")
	t.Setenv("HUGGING_FACE_HUB_TOKEN", f.token)
	if _, err := Resolve("meta/gated", Options{Endpoint: f.hub.URL, CacheDir: t.TempDir()}); err != nil {
		t.Errorf("with HUGGING_FACE_HUB_TOKEN: %v", err)
	}
}

func TestDownloadResume(t *testing.T) {
	clearHFEnv(t)
	f := newFakeHub(t)
	repo := f.addModel("org/big", commitA, true)
	name := "model-00001-of-00002.safetensors"
	content := repo.files[name]
	sha := sha256Hex(content)
	cache := t.TempDir()
	opts := Options{Endpoint: f.hub.URL, CacheDir: cache}

	// A connection dropped halfway is resumed with a Range request.
	f.breakOnce[sha] = true
	p, err := Download(context.Background(), Repo{ID: "org/big"}, name, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, content) {
		t.Fatal("resumed file differs from the original")
	}
	if !containsRange(f.ranges, "bytes=") {
		t.Errorf("no Range request after the broken connection: %q", f.ranges)
	}

	// A partial file left by an earlier run is continued from its end.
	name2 := "model-00002-of-00002.safetensors"
	c2 := repo.files[name2]
	blobs := filepath.Join(cache, "models--org--big", "blobs")
	os.MkdirAll(blobs, 0o755)
	k := len(c2) / 3
	os.WriteFile(filepath.Join(blobs, sha256Hex(c2)+".incomplete"), c2[:k], 0o644)
	f.ranges = nil
	p2, err := Download(context.Background(), Repo{ID: "org/big"}, name2, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p2); !bytes.Equal(got, c2) {
		t.Fatal("continued file differs from the original")
	}
	if want := "bytes=" + strconv.Itoa(k) + "-"; len(f.ranges) != 1 || f.ranges[0] != want {
		t.Errorf("ranges = %q, want [%q]", f.ranges, want)
	}
	if _, err := os.Stat(filepath.Join(blobs, sha256Hex(c2)+".incomplete")); err == nil {
		t.Error("the .incomplete file is left behind")
	}
}

func containsRange(rs []string, prefix string) bool {
	for _, r := range rs {
		if strings.HasPrefix(r, prefix) {
			return true
		}
	}
	return false
}

func TestDownloadChecksum(t *testing.T) {
	clearHFEnv(t)
	f := newFakeHub(t)
	repo := f.addModel("org/bad", commitA, false)
	sha := sha256Hex(repo.files[SafetensorsFile])
	f.corrupt[sha] = true
	cache := t.TempDir()
	_, err := Download(context.Background(), Repo{ID: "org/bad"}, SafetensorsFile, Options{Endpoint: f.hub.URL, CacheDir: cache})
	if err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("err = %v, want a checksum error", err)
	}
	if _, err := os.Stat(filepath.Join(cache, "models--org--bad", "blobs", sha)); err == nil {
		t.Error("a corrupt blob was kept")
	}
}

func TestDatasetListAndDownload(t *testing.T) {
	clearHFEnv(t)
	f := newFakeHub(t)
	f.repos["dataset:Org/DS"] = &fakeRepo{commit: commitB, files: map[string][]byte{
		"en/test-00000-of-00001.parquet": []byte("PAR1 en PAR1"),
		"hi/test-00000-of-00001.parquet": []byte("PAR1 hi PAR1"),
		"README.md":                      []byte("# ds"),
	}}
	cache := t.TempDir()
	opts := Options{Endpoint: f.hub.URL, CacheDir: cache}
	repo := Repo{ID: "Org/DS", Type: DatasetRepo}
	commit, files, err := ListFiles(context.Background(), repo, opts)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if commit != commitB || strings.Join(files, ",") != "README.md,en/test-00000-of-00001.parquet,hi/test-00000-of-00001.parquet" {
		t.Errorf("list = %s %v", commit, files)
	}
	repo.Revision = commit
	p, err := Download(context.Background(), repo, "hi/test-00000-of-00001.parquet", opts)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cache, "datasets--Org--DS", "snapshots", commitB, "hi", "test-00000-of-00001.parquet"); p != want {
		t.Errorf("path = %s, want %s", p, want)
	}
	// Offline, the cached part of the snapshot is listed.
	repo.Revision = ""
	opts.Offline = true
	commit, files, err = ListFiles(context.Background(), repo, opts)
	if err != nil || commit != commitB || len(files) != 1 || files[0] != "hi/test-00000-of-00001.parquet" {
		t.Errorf("offline list = %s %v %v", commit, files, err)
	}
	if _, err := Download(context.Background(), repo, "en/test-00000-of-00001.parquet", opts); !errors.Is(err, ErrNotCached) {
		t.Errorf("offline download of an uncached file: %v", err)
	}
	if _, err := Download(context.Background(), repo, "../x", opts); err == nil {
		t.Error("a file name with .. was accepted")
	}
}

func TestResolveLocalAndInvalid(t *testing.T) {
	clearHFEnv(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ConfigFile), []byte(tinyConfig), 0o644)
	m, err := Resolve(dir, Options{})
	if err != nil || !m.Local || m.Dir != dir {
		t.Errorf("local folder: %+v, %v", m, err)
	}
	for _, bad := range []string{"./missing/folder", "/no/such/dir", "a/b/c", "org/../x", "org--x/y", filepath.Join(dir, ConfigFile), t.TempDir()} {
		if _, err := Resolve(bad, Options{CacheDir: t.TempDir(), Offline: true}); err == nil {
			t.Errorf("Resolve(%q): want an error", bad)
		}
	}
	_, err = Resolve("org/notcached", Options{CacheDir: t.TempDir(), Offline: true})
	if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "offline") {
		t.Errorf("offline, empty cache: %v", err)
	}
	if _, err := Resolve("org/x", Options{Endpoint: "ftp://x", CacheDir: t.TempDir()}); err == nil {
		t.Error("an ftp endpoint was accepted")
	}
}

func TestDefaultCacheDir(t *testing.T) {
	clearHFEnv(t)
	t.Setenv("HF_HOME", "/tmp/hfhome")
	if d, _ := DefaultCacheDir(); d != "/tmp/hfhome/hub" {
		t.Errorf("with HF_HOME: %s", d)
	}
	t.Setenv("HF_HUB_CACHE", "/tmp/hubcache")
	if d, _ := DefaultCacheDir(); d != "/tmp/hubcache" {
		t.Errorf("with HF_HUB_CACHE: %s", d)
	}
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HF_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	home, _ := os.UserHomeDir()
	if d, _ := DefaultCacheDir(); d != filepath.Join(home, ".cache", "huggingface", "hub") {
		t.Errorf("default: %s", d)
	}
}

// TestDownloadConcurrent: processes sharing a cache (the jobs of a sharded
// extraction) download a file at the same time; each gets the whole,
// checked file, and the file store serves it once (they take turns on a
// lock beside the blob; the later ones find it there).
func TestDownloadConcurrent(t *testing.T) {
	clearHFEnv(t)
	f := newFakeHub(t)
	repo := f.addModel("org/big", commitA, true)
	name := "model-00001-of-00002.safetensors"
	content := repo.files[name]
	opts := Options{Endpoint: f.hub.URL, CacheDir: t.TempDir()}
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			p, err := Download(context.Background(), Repo{ID: "org/big"}, name, opts)
			if err == nil {
				if got, _ := os.ReadFile(p); !bytes.Equal(got, content) {
					err = fmt.Errorf("file differs from the original")
				}
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("download %d: %v", i, err)
		}
	}
	if f.cdnGets != 1 {
		t.Errorf("the file store served %d downloads, want 1", f.cdnGets)
	}
}
