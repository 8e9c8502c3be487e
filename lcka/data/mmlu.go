package data

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/layersim/layersim/lcka/hf"
)

// GlobalMMLULiteRepo is the hub dataset read by LoadGlobalMMLULite when no
// folder is given.
const GlobalMMLULiteRepo = "CohereForAI/Global-MMLU-Lite"

// GlobalMMLULiteName is the spec prefix of Global-MMLU-Lite.
const GlobalMMLULiteName = "global-mmlu-lite"

// Format chooses the text made from a multiple-choice row.
type Format int

const (
	// QuestionOnly is the raw question text, as the original study used.
	QuestionOnly Format = iota
	// QuestionWithOptions is the question with its four options:
	//
	//	Question: <question>
	//	A. <option_a>
	//	B. <option_b>
	//	C. <option_c>
	//	D. <option_d>
	//	Answer:
	QuestionWithOptions
)

// MMLURow is one row of Global-MMLU-Lite (the columns this package uses).
type MMLURow struct {
	SampleID        string `parquet:"sample_id,optional"`
	Subject         string `parquet:"subject,optional"`
	SubjectCategory string `parquet:"subject_category,optional"`
	Question        string `parquet:"question,optional"`
	OptionA         string `parquet:"option_a,optional"`
	OptionB         string `parquet:"option_b,optional"`
	OptionC         string `parquet:"option_c,optional"`
	OptionD         string `parquet:"option_d,optional"`
	Answer          string `parquet:"answer,optional"`
}

// Text returns the row as a prompt in the given format.
func (r MMLURow) Text(f Format) string {
	if f == QuestionWithOptions {
		return "Question: " + r.Question + "\nA. " + r.OptionA + "\nB. " + r.OptionB +
			"\nC. " + r.OptionC + "\nD. " + r.OptionD + "\nAnswer:"
	}
	return r.Question
}

// columns every Global-MMLU-Lite file must have.
var mmluColumns = []string{"sample_id", "subject", "question", "option_a", "option_b", "option_c", "option_d", "answer"}

// ReadMMLUParquet reads the rows of one Global-MMLU-Lite parquet file.
// Corrupt files give an error naming the file, never a panic.
func ReadMMLUParquet(path string) ([]MMLURow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	rows, err := parseMMLUParquet(data)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return rows, nil
}

func parseMMLUParquet(data []byte) (rows []MMLURow, err error) {
	defer func() {
		if r := recover(); r != nil {
			rows, err = nil, fmt.Errorf("corrupt parquet file: %v", r)
		}
	}()
	// Check what the file claims before the parquet library allocates it.
	if err := checkParquetFrame(data); err != nil {
		return nil, err
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("not a readable parquet file: %w", err)
	}
	if err := checkParquetPages(data, f); err != nil {
		return nil, err
	}
	var missing []string
	for _, c := range mmluColumns {
		if _, ok := f.Schema().Lookup(c); !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("not a Global-MMLU-Lite file: no column %s", strings.Join(missing, ", "))
	}
	n := f.NumRows()
	if n < 0 || n > int64(len(data))*8+1024 { // A row takes at least a few bits.
		return nil, fmt.Errorf("corrupt parquet file: claims %d rows in %d bytes", n, len(data))
	}
	r := parquet.NewGenericReader[MMLURow](f)
	defer r.Close()
	rows = make([]MMLURow, 0, n)
	buf := make([]MMLURow, 64)
	for {
		k, rerr := r.Read(buf)
		rows = append(rows, buf[:k]...)
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				break
			}
			return nil, fmt.Errorf("reading rows: %w", rerr)
		}
		if k == 0 {
			break
		}
	}
	if int64(len(rows)) != n {
		return nil, fmt.Errorf("corrupt parquet file: read %d rows, footer says %d", len(rows), n)
	}
	return rows, nil
}

// LoadGlobalMMLULite reads the split ("test", the default, or "dev") of
// Global-MMLU-Lite for the given languages from a folder holding
// <lang>/<split>-*.parquet, or, when folder is empty, from the hub dataset
// (through the hub cache). Rows are paired across languages by sample_id, in
// the order of the first language, whose subjects are kept. Rows missing
// from some language are dropped and listed in Parallel.Dropped, or are an
// error with Options.Strict.
func LoadGlobalMMLULite(folder, split string, langs []string, opts Options) (*Parallel, error) {
	if split == "" {
		split = "test"
	}
	if split != "test" && split != "dev" {
		return nil, fmt.Errorf("data: Global-MMLU-Lite has splits test and dev, not %q", split)
	}
	if len(langs) == 0 {
		return nil, errors.New("data: Global-MMLU-Lite: name the languages to load")
	}
	for _, l := range langs {
		if !validLang(l) {
			return nil, fmt.Errorf("data: invalid language code %q", l)
		}
	}
	files := map[string][]string{}
	var err error
	if folder != "" {
		for _, l := range langs {
			files[l], err = filepath.Glob(filepath.Join(folder, l, split+"-*.parquet"))
			if err != nil {
				return nil, fmt.Errorf("data: %w", err)
			}
			if len(files[l]) == 0 {
				return nil, fmt.Errorf("data: no %s/%s-*.parquet in %s", l, split, folder)
			}
		}
	} else if files, err = downloadMMLU(langs, split, opts); err != nil {
		return nil, err
	}
	perLang := map[string][]MMLURow{}
	for _, l := range langs {
		sort.Strings(files[l])
		for _, f := range files[l] {
			rows, err := ReadMMLUParquet(f)
			if err != nil {
				return nil, err
			}
			perLang[l] = append(perLang[l], rows...)
		}
	}
	name := GlobalMMLULiteName + ":" + split
	if folder != "" {
		name = GlobalMMLULiteName + ":" + folder + ":" + split
	}
	return pairRows(name, langs, perLang, opts)
}

func downloadMMLU(langs []string, split string, opts Options) (map[string][]string, error) {
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	repo := hf.Repo{ID: GlobalMMLULiteRepo, Type: hf.DatasetRepo, Revision: opts.Hub.Revision}
	commit, names, err := hf.ListFiles(ctx, repo, opts.Hub)
	if err != nil {
		return nil, fmt.Errorf("data: Global-MMLU-Lite: %w", err)
	}
	repo.Revision = commit
	files := map[string][]string{}
	for _, l := range langs {
		for _, n := range names {
			if ok, _ := path.Match(l+"/"+split+"-*.parquet", n); ok {
				p, err := hf.Download(ctx, repo, n, opts.Hub)
				if err != nil {
					return nil, fmt.Errorf("data: Global-MMLU-Lite: %w", err)
				}
				files[l] = append(files[l], p)
			}
		}
		if len(files[l]) == 0 {
			return nil, fmt.Errorf("data: Global-MMLU-Lite has no %s/%s-*.parquet (unknown language %q?)", l, split, l)
		}
	}
	return files, nil
}

// pairRows joins the rows of each language on sample_id.
func pairRows(name string, langs []string, perLang map[string][]MMLURow, opts Options) (*Parallel, error) {
	index := map[string]map[string]MMLURow{}
	for _, l := range langs {
		m := make(map[string]MMLURow, len(perLang[l]))
		for i, r := range perLang[l] {
			if strings.TrimSpace(r.SampleID) == "" {
				return nil, fmt.Errorf("data: %s: %s row %d has no sample_id", name, l, i+1)
			}
			if _, dup := m[r.SampleID]; dup {
				return nil, fmt.Errorf("data: %s: sample_id %q appears twice in %s", name, r.SampleID, l)
			}
			m[r.SampleID] = r
		}
		index[l] = m
	}
	inAll := func(id string) bool {
		for _, l := range langs {
			if _, ok := index[l][id]; !ok {
				return false
			}
		}
		return true
	}
	dropped := map[string][]string{}
	for _, l := range langs {
		for _, r := range perLang[l] {
			if !inAll(r.SampleID) {
				dropped[l] = append(dropped[l], r.SampleID)
			}
		}
	}
	if len(dropped) > 0 && opts.Strict {
		var parts []string
		for _, l := range langs {
			if d := dropped[l]; len(d) > 0 {
				show := d[:min(len(d), 10)]
				parts = append(parts, fmt.Sprintf("%d %s rows have no counterpart in every language (%s%s)", len(d), l,
					strings.Join(show, ", "), map[bool]string{true: ", ...", false: ""}[len(d) > 10]))
			}
		}
		return nil, fmt.Errorf("data: %s: unmatched rows: %s", name, strings.Join(parts, "; "))
	}
	p := &Parallel{Name: name, Langs: slices.Clone(langs), Texts: map[string][]string{}}
	if len(dropped) > 0 {
		p.Dropped = dropped
	}
	for _, r := range perLang[langs[0]] {
		if !inAll(r.SampleID) {
			continue
		}
		p.IDs = append(p.IDs, r.SampleID)
		p.Subjects = append(p.Subjects, r.Subject)
		for _, l := range langs {
			p.Texts[l] = append(p.Texts[l], index[l][r.SampleID].Text(opts.Format))
		}
	}
	if len(p.IDs) == 0 {
		return nil, fmt.Errorf("data: %s: no sample_id is present in every language", name)
	}
	return p, p.Validate()
}
