package hf

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// DefaultEndpoint is the base URL of the public Hugging Face hub, used when
// neither Options.Endpoint nor $HF_ENDPOINT is set.
const DefaultEndpoint = "https://huggingface.co"

// Errors of the hub client; test with errors.Is.
var (
	// ErrGated: the hub refused access (HTTP 401 or 403): the repository is
	// gated or private and needs HF_TOKEN with granted access.
	ErrGated = errors.New("hf: access denied by the hub")
	// ErrNotFound: unknown repository, revision or file (HTTP 404).
	ErrNotFound = errors.New("hf: not found on the hub")
	// ErrNotCached: offline, and the cache lacks what was asked.
	ErrNotCached = errors.New("hf: not in the local cache")
)

// RepoType is the kind of a hub repository.
type RepoType string

// Repository kinds.
const (
	ModelRepo   RepoType = "model"
	DatasetRepo RepoType = "dataset"
)

// Repo names a hub repository at a revision.
type Repo struct {
	ID       string   // "org/name".
	Type     RepoType // ModelRepo when empty.
	Revision string   // Branch, tag or commit; "main" when empty.
}

// Options configure the hub client. Empty fields take their values from the
// environment: HF_ENDPOINT, HF_TOKEN (or HUGGING_FACE_HUB_TOKEN, or the token
// file of `hf auth login`), HF_HUB_CACHE (or HF_HOME/hub, or
// ~/.cache/huggingface/hub) and HF_HUB_OFFLINE.
type Options struct {
	Revision string // For Resolve: branch, tag or commit; default "main".
	Endpoint string
	Token    string
	CacheDir string
	Offline  bool
	// Client makes the requests; nil means a client with a 30 s connection
	// timeout and no overall timeout (weights are large).
	Client *http.Client
	// Progress, when set, is called as bytes of a file arrive.
	Progress func(Progress)
}

// Progress reports the download of one file.
type Progress struct {
	Repo  string
	File  string
	Done  int64 // Bytes on disk so far, resumed bytes included.
	Total int64 // Size of the file; -1 when unknown.
}

// HubError is an HTTP error answered by the hub.
type HubError struct {
	Status   int
	Code     string // X-Error-Code header, e.g. "GatedRepo", "EntryNotFound".
	Repo     string
	Revision string
	File     string
	Msg      string
}

func (e *HubError) Error() string {
	return fmt.Sprintf("hf: %s (%s@%s, %s: HTTP %d %s)", e.Msg, e.Repo, e.Revision, e.File, e.Status, e.Code)
}

// Unwrap maps the status to ErrGated or ErrNotFound.
func (e *HubError) Unwrap() error {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrGated
	case http.StatusNotFound:
		return ErrNotFound
	}
	return nil
}

// entryMissing reports whether err says that a file is absent from an
// existing repository revision.
func entryMissing(err error) bool {
	var he *HubError
	return errors.As(err, &he) && he.Status == http.StatusNotFound && (he.Code == "EntryNotFound" || he.Code == "")
}

type hub struct {
	endpoint string
	token    string
	cache    string
	offline  bool
	client   *http.Client
	progress func(Progress)
}

func newHub(opts Options) (*hub, error) {
	h := &hub{
		endpoint: opts.Endpoint, token: opts.Token, cache: opts.CacheDir,
		offline: opts.Offline || envTrue("HF_HUB_OFFLINE"), client: opts.Client, progress: opts.Progress,
	}
	if h.endpoint == "" {
		h.endpoint = os.Getenv("HF_ENDPOINT")
	}
	if h.endpoint == "" {
		h.endpoint = DefaultEndpoint
	}
	h.endpoint = strings.TrimRight(h.endpoint, "/")
	if u, err := url.Parse(h.endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("hf: invalid hub endpoint %q", h.endpoint)
	}
	if h.token == "" {
		h.token = envToken()
	}
	if h.cache == "" {
		c, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		h.cache = c
	}
	if h.client == nil {
		h.client = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			TLSHandshakeTimeout:   30 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
		}}
	}
	return h, nil
}

func envTrue(name string) bool {
	switch strings.ToUpper(strings.TrimSpace(os.Getenv(name))) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

// envToken returns HF_TOKEN, HUGGING_FACE_HUB_TOKEN or the stored token file.
func envToken() string {
	for _, k := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		if t := strings.TrimSpace(os.Getenv(k)); t != "" {
			return t
		}
	}
	p := os.Getenv("HF_TOKEN_PATH")
	if p == "" {
		if home := hfHome(); home != "" {
			p = filepath.Join(home, "token")
		}
	}
	if p != "" {
		if b, err := os.ReadFile(p); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	return ""
}

func hfHome() string {
	if h := os.Getenv("HF_HOME"); h != "" {
		return h
	}
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "huggingface")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".cache", "huggingface")
	}
	return ""
}

// DefaultCacheDir returns the hub cache folder: $HF_HUB_CACHE, else
// $HF_HOME/hub, else ~/.cache/huggingface/hub.
func DefaultCacheDir() (string, error) {
	for _, k := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"} {
		if d := os.Getenv(k); d != "" {
			return d, nil
		}
	}
	if home := hfHome(); home != "" {
		return filepath.Join(home, "hub"), nil
	}
	return "", errors.New("hf: no cache folder: set HF_HUB_CACHE or HF_HOME")
}

var (
	repoPart = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$`)
	commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)
	sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ValidRepoID reports whether id is a hub repository id: "name" or
// "org/name" of letters, digits, '.', '_' and '-', without ".." or "--".
func ValidRepoID(id string) bool {
	parts := strings.Split(id, "/")
	if len(parts) > 2 || strings.Contains(id, "..") || strings.Contains(id, "--") {
		return false
	}
	for _, p := range parts {
		if !repoPart.MatchString(p) {
			return false
		}
	}
	return true
}

func (r Repo) normalized() (Repo, error) {
	if r.Type == "" {
		r.Type = ModelRepo
	}
	if r.Revision == "" {
		r.Revision = "main"
	}
	if r.Type != ModelRepo && r.Type != DatasetRepo {
		return r, fmt.Errorf("hf: unknown repository type %q", r.Type)
	}
	if !ValidRepoID(r.ID) {
		return r, fmt.Errorf("hf: invalid repository id %q (want org/name)", r.ID)
	}
	if !validRelPath(r.Revision) {
		return r, fmt.Errorf("hf: invalid revision %q", r.Revision)
	}
	return r, nil
}

// validRelPath accepts slash-separated relative paths without "." or "..".
func validRelPath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") {
		return false
	}
	for _, c := range strings.Split(p, "/") {
		if c == "" || c == "." || c == ".." {
			return false
		}
	}
	return true
}

// repoDir is the repository's folder in the cache, e.g. models--org--name.
func (h *hub) repoDir(r Repo) string {
	return filepath.Join(h.cache, string(r.Type)+"s--"+strings.ReplaceAll(r.ID, "/", "--"))
}

func (h *hub) resolveURL(r Repo, revision, file string) string {
	prefix := ""
	if r.Type == DatasetRepo {
		prefix = "/datasets"
	}
	segs := strings.Split(file, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return h.endpoint + prefix + "/" + r.ID + "/resolve/" + url.PathEscape(revision) + "/" + strings.Join(segs, "/")
}

// sameHost reports whether u is on the endpoint's host, the only place
// the token is sent to.
func (h *hub) sameHost(u *url.URL) bool {
	e, err := url.Parse(h.endpoint)
	return err == nil && strings.EqualFold(e.Host, u.Host) && e.Scheme == u.Scheme
}

func (h *hub) newRequest(ctx context.Context, method, rawURL string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "layersim-hf/1")
	if h.token != "" && h.sameHost(req.URL) {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	return req, nil
}

// fileMeta is what a HEAD on a resolve URL tells about a file.
type fileMeta struct {
	commit string
	etag   string
	size   int64 // -1 when unknown.
	url    string
}

func normalizeETag(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	return strings.Trim(s, `"`)
}

// head asks the hub for a file's commit, etag, size and download URL. It
// follows redirects inside the hub (renamed repositories) but stops at a
// redirect to a file store, whose target becomes the download URL.
func (h *hub) head(ctx context.Context, r Repo, revision, file string) (fileMeta, error) {
	client := *h.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	u := h.resolveURL(r, revision, file)
	for range 10 {
		req, err := h.newRequest(ctx, http.MethodHead, u)
		if err != nil {
			return fileMeta{}, err
		}
		req.Header.Set("Accept-Encoding", "identity")
		resp, err := client.Do(req)
		if err != nil {
			return fileMeta{}, err
		}
		resp.Body.Close()
		commit := resp.Header.Get("X-Repo-Commit")
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := resp.Location()
			if err != nil {
				return fileMeta{}, fmt.Errorf("hf: redirect without location for %s", u)
			}
			if commit == "" {
				u = loc.String() // Renamed repository: ask again there.
				continue
			}
			return h.metaFrom(resp, loc.String(), r, revision, file)
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return h.metaFrom(resp, u, r, revision, file)
		default:
			return fileMeta{}, h.statusError(resp, r, revision, file)
		}
	}
	return fileMeta{}, fmt.Errorf("hf: too many redirects for %s", u)
}

func (h *hub) metaFrom(resp *http.Response, dl string, r Repo, revision, file string) (fileMeta, error) {
	m := fileMeta{commit: resp.Header.Get("X-Repo-Commit"), url: dl, size: -1}
	m.etag = normalizeETag(resp.Header.Get("X-Linked-Etag"))
	if m.etag == "" {
		m.etag = normalizeETag(resp.Header.Get("ETag"))
	}
	size := resp.Header.Get("X-Linked-Size")
	if size == "" {
		size = resp.Header.Get("Content-Length")
	}
	if n, err := strconv.ParseInt(size, 10, 64); err == nil && n >= 0 {
		m.size = n
	}
	switch {
	case !commitRE.MatchString(m.commit):
		return m, fmt.Errorf("hf: hub answer for %s@%s %s lacks a valid X-Repo-Commit header (%q)", r.ID, revision, file, m.commit)
	case m.etag == "" || !validRelPath(m.etag) || strings.Contains(m.etag, "/"):
		return m, fmt.Errorf("hf: hub answer for %s@%s %s lacks a valid ETag (%q)", r.ID, revision, file, m.etag)
	}
	return m, nil
}

func (h *hub) statusError(resp *http.Response, r Repo, revision, file string) error {
	e := &HubError{Status: resp.StatusCode, Code: resp.Header.Get("X-Error-Code"), Repo: r.ID, Revision: revision, File: file}
	what := "model"
	if r.Type == DatasetRepo {
		what = "dataset"
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		if h.token == "" {
			e.Msg = fmt.Sprintf("%s %s is gated or private (or does not exist): accept its license on the hub and set HF_TOKEN to an access token", what, r.ID)
		} else {
			e.Msg = fmt.Sprintf("%s %s is gated or private and the token in HF_TOKEN was refused: check that the token is valid and that access to the repository was granted", what, r.ID)
		}
	case http.StatusNotFound:
		switch e.Code {
		case "RevisionNotFound":
			e.Msg = fmt.Sprintf("unknown revision %q of %s %s", revision, what, r.ID)
		case "EntryNotFound":
			e.Msg = fmt.Sprintf("%s %s has no file %s at %s", what, r.ID, file, revision)
		default:
			e.Msg = fmt.Sprintf("unknown %s repository %s or revision %q (or missing file)", what, r.ID, revision)
		}
	default:
		e.Msg = fmt.Sprintf("hub request failed: %s", resp.Status)
	}
	return e
}

// transient reports whether err is a failure to reach the hub (network,
// timeout, server error) rather than an answer about the repository.
func transient(err error) bool {
	var he *HubError
	if errors.As(err, &he) {
		return he.Status >= 500
	}
	return err != nil && !errors.Is(err, context.Canceled)
}

// blobPath is where a file's content lives: blobs/<etag>.
func blobPath(repoDir, etag string) string { return filepath.Join(repoDir, "blobs", etag) }

// fetch downloads (or reuses) the blob of a file and links it into the
// snapshot of the commit. It returns the snapshot path.
func (h *hub) fetch(ctx context.Context, r Repo, m fileMeta, file string) (string, error) {
	dir := h.repoDir(r)
	blob := blobPath(dir, m.etag)
	have := func() bool {
		st, err := os.Stat(blob)
		return err == nil && (m.size < 0 || st.Size() == m.size)
	}
	if !have() {
		// Processes sharing the cache (the jobs of a sharded extraction)
		// take turns: one downloads, the others wait and find the blob.
		if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
			return "", fmt.Errorf("hf: %w", err)
		}
		lock := flock.New(blob + ".lock")
		if _, err := lock.TryLockContext(ctx, 250*time.Millisecond); err != nil {
			return "", fmt.Errorf("hf: waiting for another download of %s: %w", file, err)
		}
		defer lock.Unlock()
		if !have() {
			if err := h.download(ctx, r, m, file, blob); err != nil {
				return "", err
			}
		}
	}
	return linkSnapshot(dir, m.commit, file, m.etag)
}

// download fetches m.url into blob, resuming blob.incomplete with a Range
// request, retrying a few times when the connection breaks.
func (h *hub) download(ctx context.Context, r Repo, m fileMeta, file, blob string) error {
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	tmp := blob + ".incomplete"
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 200 * time.Millisecond):
			}
		}
		err := h.downloadOnce(ctx, r, m, file, tmp)
		if err == nil {
			lastErr = nil
			break
		}
		var he *HubError
		if errors.As(err, &he) && he.Status < 500 || errors.Is(err, errChecksum) || ctx.Err() != nil {
			return err
		}
		lastErr = err
	}
	if lastErr != nil {
		if _, err := os.Stat(tmp); err != nil || !complete(tmp, m.size) {
			return fmt.Errorf("hf: downloading %s from %s (partial file kept for resuming): %w", file, r.ID, lastErr)
		}
	}
	if sha256RE.MatchString(m.etag) {
		if err := checkSHA256(tmp, m.etag); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("hf: %s of %s: %w", file, r.ID, err)
		}
	}
	if err := os.Rename(tmp, blob); err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	return nil
}

func complete(path string, size int64) bool {
	st, err := os.Stat(path)
	return err == nil && size >= 0 && st.Size() == size
}

var errChecksum = errors.New("content does not match its sha256 etag")

func checkSHA256(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	hash := sha256.New()
	if _, err := io.Copy(hash, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(hash.Sum(nil)); got != want {
		return fmt.Errorf("%w (got %s, want %s)", errChecksum, got, want)
	}
	return nil
}

func (h *hub) downloadOnce(ctx context.Context, r Repo, m fileMeta, file, tmp string) error {
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	defer out.Close()
	st, err := out.Stat()
	if err != nil {
		return err
	}
	offset := st.Size()
	if m.size >= 0 && offset > m.size {
		offset = 0
	}
	if m.size >= 0 && offset == m.size {
		return nil
	}
	req, err := h.newRequest(ctx, http.MethodGet, m.url)
	if err != nil {
		return err
	}
	req.Header.Set("Accept-Encoding", "identity")
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, ok := contentRangeStart(resp.Header.Get("Content-Range"))
		if !ok || start != offset {
			return fmt.Errorf("hf: server answered range %q to a request from byte %d", resp.Header.Get("Content-Range"), offset)
		}
	case http.StatusOK:
		offset = 0
	case http.StatusRequestedRangeNotSatisfiable:
		// The partial file is not a prefix we can resume: start again.
		if err := out.Truncate(0); err != nil {
			return err
		}
		return fmt.Errorf("hf: range from byte %d refused; restarting", offset)
	default:
		return h.statusError(resp, r, m.commit, file)
	}
	if err := out.Truncate(offset); err != nil {
		return err
	}
	if _, err := out.Seek(offset, io.SeekStart); err != nil {
		return err
	}
	done := offset
	report := func() {
		if h.progress != nil {
			h.progress(Progress{Repo: r.ID, File: file, Done: done, Total: m.size})
		}
	}
	report()
	buf := make([]byte, 1<<20)
	last := time.Now()
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, err := out.Write(buf[:n]); err != nil {
				return fmt.Errorf("hf: writing %s: %w", tmp, err)
			}
			done += int64(n)
			if time.Since(last) > 100*time.Millisecond {
				report()
				last = time.Now()
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	report()
	if err := out.Sync(); err != nil {
		return err
	}
	if m.size >= 0 && done != m.size {
		return fmt.Errorf("hf: %s: got %d bytes, want %d", file, done, m.size)
	}
	return nil
}

func contentRangeStart(s string) (int64, bool) {
	s, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return 0, false
	}
	s, _, ok = strings.Cut(s, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// linkSnapshot makes snapshots/<commit>/<file> point at blobs/<etag> with a
// relative symbolic link (a copy where links are not possible).
func linkSnapshot(repoDir, commit, file, etag string) (string, error) {
	dst := filepath.Join(repoDir, "snapshots", commit, filepath.FromSlash(file))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("hf: %w", err)
	}
	blob := blobPath(repoDir, etag)
	rel, err := filepath.Rel(filepath.Dir(dst), blob)
	if err != nil {
		return "", fmt.Errorf("hf: %w", err)
	}
	if cur, err := os.Readlink(dst); err == nil && cur == rel {
		return dst, nil
	}
	os.Remove(dst)
	if err := os.Symlink(rel, dst); err != nil {
		data, rerr := os.ReadFile(blob)
		if rerr != nil {
			return "", fmt.Errorf("hf: %w", rerr)
		}
		if werr := WriteFileAtomic(dst, data); werr != nil {
			return "", werr
		}
	}
	return dst, nil
}

// writeRef records that revision points at commit.
func (h *hub) writeRef(r Repo, commit string) error {
	if r.Revision == commit {
		return nil
	}
	p := filepath.Join(h.repoDir(r), "refs", filepath.FromSlash(r.Revision))
	if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == commit {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	return WriteFileAtomic(p, []byte(commit))
}

// markMissing records that a file does not exist at a commit.
func (h *hub) markMissing(r Repo, commit, file string) {
	p := filepath.Join(h.repoDir(r), ".no_exist", commit, filepath.FromSlash(file))
	if os.MkdirAll(filepath.Dir(p), 0o755) == nil {
		os.WriteFile(p, nil, 0o644)
	}
}

// cachedCommit returns the commit a revision points at in the cache.
func (h *hub) cachedCommit(r Repo) (string, error) {
	if commitRE.MatchString(r.Revision) {
		if _, err := os.Stat(filepath.Join(h.repoDir(r), "snapshots", r.Revision)); err == nil {
			return r.Revision, nil
		}
	}
	b, err := os.ReadFile(filepath.Join(h.repoDir(r), "refs", filepath.FromSlash(r.Revision)))
	if err != nil {
		return "", fmt.Errorf("%w: no cached revision %q of %s in %s", ErrNotCached, r.Revision, r.ID, h.cache)
	}
	c := strings.TrimSpace(string(b))
	if !commitRE.MatchString(c) {
		return "", fmt.Errorf("hf: corrupt cache ref for %s@%s: %q", r.ID, r.Revision, c)
	}
	return c, nil
}

// cachedFile returns the snapshot path of a file at a commit, if present.
func (h *hub) cachedFile(r Repo, commit, file string) (string, bool) {
	p := filepath.Join(h.repoDir(r), "snapshots", commit, filepath.FromSlash(file))
	st, err := os.Stat(p) // Follows the link: a dangling link is absent.
	return p, err == nil && st.Mode().IsRegular()
}

func (h *hub) knownMissing(r Repo, commit, file string) bool {
	_, err := os.Stat(filepath.Join(h.repoDir(r), ".no_exist", commit, filepath.FromSlash(file)))
	return err == nil
}

// Download returns the local path of one file of a hub repository,
// downloading it into the cache unless it is there already. Offline, or when
// the hub cannot be reached, the cached copy is used.
func Download(ctx context.Context, repo Repo, file string, opts Options) (string, error) {
	h, err := newHub(opts)
	if err != nil {
		return "", err
	}
	repo, err = repo.normalized()
	if err != nil {
		return "", err
	}
	if !validRelPath(file) {
		return "", fmt.Errorf("hf: invalid file name %q", file)
	}
	return h.file(ctx, repo, file)
}

func (h *hub) file(ctx context.Context, r Repo, file string) (string, error) {
	fromCache := func(cause error) (string, error) {
		commit, err := h.cachedCommit(r)
		if err == nil {
			if p, ok := h.cachedFile(r, commit, file); ok {
				return p, nil
			}
			err = fmt.Errorf("%w: %s of %s@%s", ErrNotCached, file, r.ID, r.Revision)
		}
		if cause != nil {
			return "", fmt.Errorf("%w (and the hub could not be reached: %v)", err, cause)
		}
		return "", err
	}
	if h.offline {
		return fromCache(nil)
	}
	m, err := h.head(ctx, r, r.Revision, file)
	if err != nil {
		if transient(err) {
			return fromCache(err)
		}
		return "", err
	}
	p, err := h.fetch(ctx, r, m, file)
	if err != nil {
		return "", err
	}
	return p, h.writeRef(r, m.commit)
}

// ListFiles returns the commit of a repository revision and the paths of
// all its files. Offline, or when the hub cannot be reached, it lists the
// files of the cached snapshot instead.
func ListFiles(ctx context.Context, repo Repo, opts Options) (commit string, files []string, err error) {
	h, err := newHub(opts)
	if err != nil {
		return "", nil, err
	}
	repo, err = repo.normalized()
	if err != nil {
		return "", nil, err
	}
	if !h.offline {
		commit, files, err = h.listRemote(ctx, repo)
		if err == nil {
			return commit, files, h.writeRef(repo, commit)
		}
		if !transient(err) {
			return "", nil, err
		}
	}
	cause := err
	commit, cerr := h.cachedCommit(repo)
	if cerr != nil {
		if cause != nil {
			return "", nil, fmt.Errorf("%w (and the hub could not be reached: %v)", cerr, cause)
		}
		return "", nil, cerr
	}
	root := filepath.Join(h.repoDir(repo), "snapshots", commit)
	if _, err := os.Stat(root); err != nil {
		return "", nil, fmt.Errorf("%w: no cached files of %s@%s", ErrNotCached, repo.ID, repo.Revision)
	}
	werr := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if werr != nil {
		return "", nil, fmt.Errorf("hf: listing cached snapshot: %w", werr)
	}
	return commit, files, nil
}

func (h *hub) listRemote(ctx context.Context, r Repo) (string, []string, error) {
	u := h.endpoint + "/api/" + string(r.Type) + "s/" + r.ID + "/revision/" + url.PathEscape(r.Revision)
	req, err := h.newRequest(ctx, http.MethodGet, u)
	if err != nil {
		return "", nil, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", nil, h.statusError(resp, r, r.Revision, "(file list)")
	}
	var info struct {
		SHA      string `json:"sha"`
		Siblings []struct {
			RFilename string `json:"rfilename"`
		} `json:"siblings"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&info); err != nil {
		return "", nil, fmt.Errorf("hf: file list of %s: %v", r.ID, err)
	}
	if !commitRE.MatchString(info.SHA) {
		return "", nil, fmt.Errorf("hf: file list of %s lacks a valid commit (%q)", r.ID, info.SHA)
	}
	files := make([]string, 0, len(info.Siblings))
	for _, s := range info.Siblings {
		if validRelPath(s.RFilename) {
			files = append(files, s.RFilename)
		}
	}
	return info.SHA, files, nil
}

// Model is a resolved model folder.
type Model struct {
	Dir      string // Folder holding config.json, tokenizer files and weights.
	RepoID   string // Empty for a local folder.
	Revision string
	Commit   string
	Local    bool // A folder given by the user, used as is.
	Cached   bool // Served from the cache without contacting the hub.
}

// Resolve finds a model: a local folder is used as is; otherwise idOrPath is
// a hub id "org/name", optionally "org/name@revision", whose config,
// tokenizer files and safetensors weights (single or sharded) are fetched
// into the cache. See ResolveContext.
func Resolve(idOrPath string, opts Options) (*Model, error) {
	return ResolveContext(context.Background(), idOrPath, opts)
}

// ResolveContext is Resolve with a context for cancelling downloads.
func ResolveContext(ctx context.Context, idOrPath string, opts Options) (*Model, error) {
	if st, err := os.Stat(idOrPath); err == nil {
		if !st.IsDir() {
			return nil, fmt.Errorf("hf: %s is a file, want a model folder or a hub id", idOrPath)
		}
		if _, err := os.Stat(filepath.Join(idOrPath, ConfigFile)); err != nil {
			return nil, fmt.Errorf("hf: folder %s has no %s", idOrPath, ConfigFile)
		}
		return &Model{Dir: idOrPath, Local: true}, nil
	}
	id, rev, _ := strings.Cut(idOrPath, "@")
	if rev == "" {
		rev = opts.Revision
	}
	if !ValidRepoID(id) || strings.HasPrefix(idOrPath, ".") || strings.HasPrefix(idOrPath, "/") {
		return nil, fmt.Errorf("hf: %q is neither an existing folder nor a hub id org/name", idOrPath)
	}
	h, err := newHub(opts)
	if err != nil {
		return nil, err
	}
	r, err := Repo{ID: id, Type: ModelRepo, Revision: rev}.normalized()
	if err != nil {
		return nil, err
	}
	if h.offline {
		return h.cachedModel(r, nil)
	}
	m, err := h.resolveRemote(ctx, r)
	if err != nil && transient(err) {
		return h.cachedModel(r, err)
	}
	return m, err
}

// Files a model folder needs (weights aside), and optional ones.
var (
	requiredModelFiles = []string{ConfigFile, TokenizerFile}
	optionalModelFiles = []string{TokenizerConfigFile, GenerationFile}
)

func (h *hub) resolveRemote(ctx context.Context, r Repo) (*Model, error) {
	// The first answer fixes the commit; every later file is asked at it.
	first, err := h.head(ctx, r, r.Revision, ConfigFile)
	if err != nil {
		return nil, err
	}
	commit := first.commit
	at := r
	at.Revision = commit
	if _, err := h.fetch(ctx, r, first, ConfigFile); err != nil {
		return nil, err
	}
	get := func(file string, required bool) (string, error) {
		m, err := h.head(ctx, at, commit, file)
		if err != nil {
			if !required && entryMissing(err) {
				h.markMissing(r, commit, file)
				return "", nil
			}
			return "", err
		}
		return h.fetch(ctx, r, m, file)
	}
	for _, f := range requiredModelFiles[1:] {
		if _, err := get(f, true); err != nil {
			return nil, err
		}
	}
	for _, f := range optionalModelFiles {
		if _, err := get(f, false); err != nil {
			return nil, err
		}
	}
	idxPath, err := get(SafetensorsIndex, false)
	if err != nil {
		return nil, err
	}
	if idxPath != "" {
		idx, err := ReadIndex(idxPath)
		if err != nil {
			return nil, err
		}
		for _, shard := range idx.Shards() {
			if _, err := get(shard, true); err != nil {
				return nil, err
			}
		}
	} else if _, err := get(SafetensorsFile, true); err != nil {
		if entryMissing(err) {
			return nil, fmt.Errorf("hf: model %s has neither %s nor %s (only safetensors weights are supported): %w", r.ID, SafetensorsIndex, SafetensorsFile, err)
		}
		return nil, err
	}
	if err := h.writeRef(r, commit); err != nil {
		return nil, err
	}
	return &Model{Dir: filepath.Join(h.repoDir(r), "snapshots", commit), RepoID: r.ID, Revision: r.Revision, Commit: commit}, nil
}

// cachedModel returns the cached snapshot of r when it is complete.
func (h *hub) cachedModel(r Repo, cause error) (*Model, error) {
	fail := func(err error) (*Model, error) {
		if cause != nil {
			return nil, fmt.Errorf("%w (and the hub could not be reached: %v)", err, cause)
		}
		return nil, fmt.Errorf("%w (offline mode)", err)
	}
	commit, err := h.cachedCommit(r)
	if err != nil {
		return fail(err)
	}
	missing := func(file string) (*Model, error) {
		return fail(fmt.Errorf("%w: cached snapshot %s of %s lacks %s", ErrNotCached, commit, r.ID, file))
	}
	for _, f := range requiredModelFiles {
		if _, ok := h.cachedFile(r, commit, f); !ok {
			return missing(f)
		}
	}
	for _, f := range optionalModelFiles {
		if _, ok := h.cachedFile(r, commit, f); !ok && !h.knownMissing(r, commit, f) {
			return missing(f)
		}
	}
	if p, ok := h.cachedFile(r, commit, SafetensorsIndex); ok {
		idx, err := ReadIndex(p)
		if err != nil {
			return fail(err)
		}
		for _, s := range idx.Shards() {
			if _, ok := h.cachedFile(r, commit, s); !ok {
				return missing(s)
			}
		}
	} else if _, ok := h.cachedFile(r, commit, SafetensorsFile); !ok {
		return missing(SafetensorsFile)
	}
	return &Model{Dir: filepath.Join(h.repoDir(r), "snapshots", commit), RepoID: r.ID, Revision: r.Revision, Commit: commit, Cached: true}, nil
}
