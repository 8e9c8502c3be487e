package data

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// LangPlaceholder in a file path stands for the language code: with
// "prompts_{lang}.json" each language has its own file holding a JSON array
// of strings (or, for .jsonl, one JSON string per line).
const LangPlaceholder = "{lang}"

// Fields of an item that are not languages.
const (
	idField      = "id"
	subjectField = "subject"
)

// record is one item read from a file, before pairing.
type record struct {
	where   string // "record 3", "line 7": for messages.
	id      string
	subject string
	texts   map[string]string
}

// ReadFile reads a prompt file: .json, .jsonl or .csv (see ReadJSON,
// ReadJSONL, ReadCSV), or per-language files when path holds {lang}. With
// langs nil, every language found is kept.
func ReadFile(path string, langs []string) (*Parallel, error) {
	if strings.Contains(path, LangPlaceholder) {
		return readPerLanguage(path, langs)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	var p *Parallel
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".json":
		p, err = ReadJSON(f, langs)
	case ".jsonl", ".ndjson":
		p, err = ReadJSONL(f, langs)
	case ".csv":
		p, err = ReadCSV(f, langs)
	default:
		return nil, fmt.Errorf("data: %s: unknown prompt file type %q (want .json, .jsonl or .csv)", path, ext)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p.Name = path
	return p, nil
}

// ReadJSON reads prompts from JSON in one of two layouts:
//
//	[{"id": "q1", "subject": "math", "en": "...", "hi": "..."}, ...]
//	{"id": ["q1", ...], "en": ["...", ...], "hi": ["...", ...]}
//
// id and subject are optional (ids default to "1", "2", ...); ids may be
// strings or numbers. With langs nil every other string field is a language.
func ReadJSON(r io.Reader, langs []string) (*Parallel, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("data: empty JSON prompt file")
	}
	if !utf8.Valid(trimmed) {
		return nil, errors.New("data: JSON prompt file is not valid UTF-8")
	}
	switch trimmed[0] {
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, fmt.Errorf("data: invalid JSON: %v", err)
		}
		recs := make([]record, 0, len(items))
		for i, it := range items {
			where := fmt.Sprintf("record %d", i+1)
			if t := bytes.TrimSpace(it); len(t) > 0 && t[0] == '"' {
				return nil, fmt.Errorf("data: %s is a string: an array of strings holds one language; use a path with %s for per-language files", where, LangPlaceholder)
			}
			rec, err := parseObject(it, where, langs)
			if err != nil {
				return nil, err
			}
			recs = append(recs, rec)
		}
		return fromRecords(recs, langs)
	case '{':
		return readColumns(trimmed, langs)
	}
	return nil, errors.New("data: JSON prompt file must hold an array of objects or an object of arrays")
}

// ReadJSONL reads one JSON object per line, as in ReadJSON's first layout.
// Blank lines are skipped.
func ReadJSONL(r io.Reader, langs []string) (*Parallel, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64<<20)
	var recs []record
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if !utf8.Valid(b) {
			return nil, fmt.Errorf("data: line %d is not valid UTF-8", line)
		}
		rec, err := parseObject(b, fmt.Sprintf("line %d", line), langs)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return fromRecords(recs, langs)
}

// ReadCSV reads a CSV file whose header names the columns: an optional id
// and subject, and one column per language. Quoted fields may hold line
// breaks. With langs nil every column but id and subject is a language.
func ReadCSV(r io.Reader, langs []string) (*Parallel, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("data: empty CSV file")
	}
	if err != nil {
		return nil, fmt.Errorf("data: CSV header: %v", err)
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if h == "" {
			return nil, fmt.Errorf("data: CSV header: column %d has no name", i+1)
		}
		if _, dup := cols[h]; dup {
			return nil, fmt.Errorf("data: CSV header: column %q appears twice", h)
		}
		cols[h] = i
		header[i] = h
	}
	if langs == nil {
		for _, h := range header {
			if h != idField && h != subjectField {
				langs = append(langs, h)
			}
		}
	}
	for _, l := range langs {
		if _, ok := cols[l]; !ok {
			return nil, fmt.Errorf("data: CSV has no column for language %q (columns: %s)", l, strings.Join(header, ", "))
		}
	}
	var recs []record
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("data: CSV: %v", err)
		}
		line, _ := cr.FieldPos(0)
		rec := record{where: fmt.Sprintf("line %d", line), texts: map[string]string{}}
		if i, ok := cols[idField]; ok {
			rec.id = strings.TrimSpace(row[i])
			if rec.id == "" {
				return nil, fmt.Errorf("data: CSV %s: empty id", rec.where)
			}
		}
		if i, ok := cols[subjectField]; ok {
			rec.subject = row[i]
		}
		for _, l := range langs {
			rec.texts[l] = row[cols[l]]
		}
		recs = append(recs, rec)
	}
	p, err := fromRecords(recs, langs)
	if err != nil {
		return nil, err
	}
	if _, ok := cols[subjectField]; !ok {
		p.Subjects = nil
	}
	return p, nil
}

// parseObject reads one item object.
func parseObject(raw []byte, where string, langs []string) (record, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return record{}, fmt.Errorf("data: %s is not a JSON object: %v", where, err)
	}
	rec := record{where: where, texts: map[string]string{}}
	if v, ok := obj[idField]; ok {
		id, err := idString(v)
		if err != nil {
			return record{}, fmt.Errorf("data: %s: %v", where, err)
		}
		rec.id = id
	}
	if v, ok := obj[subjectField]; ok {
		if err := json.Unmarshal(v, &rec.subject); err != nil {
			return record{}, fmt.Errorf("data: %s: subject must be a string", where)
		}
	}
	want := langs
	if want == nil {
		for k, v := range obj {
			if k != idField && k != subjectField && len(v) > 0 && v[0] == '"' {
				want = append(want, k)
			}
		}
	}
	for _, l := range want {
		v, ok := obj[l]
		if !ok {
			continue // Reported by fromRecords, which knows all languages.
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return record{}, fmt.Errorf("data: %s: text %q must be a string", where, l)
		}
		rec.texts[l] = s
	}
	return rec, nil
}

// idString accepts a JSON string or integer.
func idString(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		if strings.TrimSpace(s) == "" {
			return "", errors.New("empty id")
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		if _, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return string(n), nil
		}
	}
	return "", fmt.Errorf("id must be a string or an integer, got %.30s", v)
}

// fromRecords pairs records into a Parallel: every record must have a text
// for every language.
func fromRecords(recs []record, langs []string) (*Parallel, error) {
	if len(recs) == 0 {
		return nil, errors.New("data: no prompts")
	}
	if langs == nil {
		set := map[string]bool{}
		for _, r := range recs {
			for l := range r.texts {
				set[l] = true
			}
		}
		for l := range set {
			langs = append(langs, l)
		}
		sort.Strings(langs)
		if len(langs) == 0 {
			return nil, errors.New("data: no language texts found")
		}
	}
	p := &Parallel{Langs: slices.Clone(langs), Texts: map[string][]string{}}
	hasSubject := false
	for i, r := range recs {
		id := r.id
		if id == "" {
			id = strconv.Itoa(i + 1)
		}
		p.IDs = append(p.IDs, id)
		p.Subjects = append(p.Subjects, r.subject)
		hasSubject = hasSubject || r.subject != ""
		for _, l := range langs {
			t, ok := r.texts[l]
			if !ok {
				return nil, fmt.Errorf("data: %s (id %q) has no %q text", r.where, id, l)
			}
			if err := checkText(t); err != nil {
				return nil, fmt.Errorf("data: %s (id %q), language %q: %v", r.where, id, l, err)
			}
			p.Texts[l] = append(p.Texts[l], t)
		}
	}
	if !hasSubject {
		p.Subjects = nil
	}
	return p, p.Validate()
}

// readColumns reads the object-of-arrays layout.
func readColumns(data []byte, langs []string) (*Parallel, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("data: invalid JSON: %v", err)
	}
	if langs == nil {
		for k := range obj {
			if k != idField && k != subjectField {
				langs = append(langs, k)
			}
		}
		sort.Strings(langs)
	}
	if len(langs) == 0 {
		return nil, errors.New("data: JSON object has no language arrays")
	}
	cols := map[string][]string{}
	for _, l := range langs {
		v, ok := obj[l]
		if !ok {
			return nil, fmt.Errorf("data: JSON object has no %q array", l)
		}
		var texts []string
		if err := json.Unmarshal(v, &texts); err != nil {
			return nil, fmt.Errorf("data: %q must be an array of strings: %v", l, err)
		}
		cols[l] = texts
	}
	n := len(cols[langs[0]])
	for _, l := range langs[1:] {
		if len(cols[l]) != n {
			return nil, fmt.Errorf("data: %q has %d texts but %q has %d", langs[0], n, l, len(cols[l]))
		}
	}
	var ids []json.RawMessage
	if v, ok := obj[idField]; ok {
		if err := json.Unmarshal(v, &ids); err != nil || len(ids) != n {
			return nil, fmt.Errorf("data: \"id\" must be an array of %d ids", n)
		}
	}
	var subjects []string
	if v, ok := obj[subjectField]; ok {
		if err := json.Unmarshal(v, &subjects); err != nil || len(subjects) != n {
			return nil, fmt.Errorf("data: \"subject\" must be an array of %d strings", n)
		}
	}
	recs := make([]record, n)
	for i := range recs {
		recs[i] = record{where: fmt.Sprintf("item %d", i+1), texts: map[string]string{}}
		if ids != nil {
			id, err := idString(ids[i])
			if err != nil {
				return nil, fmt.Errorf("data: item %d: %v", i+1, err)
			}
			recs[i].id = id
		}
		if subjects != nil {
			recs[i].subject = subjects[i]
		}
		for _, l := range langs {
			recs[i].texts[l] = cols[l][i]
		}
	}
	return fromRecords(recs, langs)
}

// readPerLanguage reads one file per language, each a list of strings.
func readPerLanguage(pattern string, langs []string) (*Parallel, error) {
	if len(langs) == 0 {
		return nil, fmt.Errorf("data: %s: name the languages to read", pattern)
	}
	p := &Parallel{Name: pattern, Langs: slices.Clone(langs), Texts: map[string][]string{}}
	for _, l := range langs {
		if !validLang(l) {
			return nil, fmt.Errorf("data: invalid language code %q", l)
		}
		path := strings.ReplaceAll(pattern, LangPlaceholder, l)
		texts, err := readStrings(path)
		if err != nil {
			return nil, err
		}
		if len(p.Langs) > 0 && l != langs[0] && len(texts) != len(p.Texts[langs[0]]) {
			return nil, fmt.Errorf("data: %s has %d texts but the %q file has %d: the files must be parallel", path, len(texts), langs[0], len(p.Texts[langs[0]]))
		}
		for i, t := range texts {
			if err := checkText(t); err != nil {
				return nil, fmt.Errorf("data: %s: text %d: %v", path, i+1, err)
			}
		}
		p.Texts[l] = texts
	}
	for i := range p.Texts[langs[0]] {
		p.IDs = append(p.IDs, strconv.Itoa(i+1))
	}
	return p, p.Validate()
}

// readStrings reads a JSON array of strings (.json) or one JSON string per
// line (.jsonl).
func readStrings(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("data: %s is not valid UTF-8", path)
	}
	var texts []string
	if strings.EqualFold(filepath.Ext(path), ".jsonl") {
		for i, line := range strings.Split(string(data), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			var s string
			if err := json.Unmarshal([]byte(line), &s); err != nil {
				return nil, fmt.Errorf("data: %s line %d: want a JSON string: %v", path, i+1, err)
			}
			texts = append(texts, s)
		}
	} else if err := json.Unmarshal(data, &texts); err != nil {
		return nil, fmt.Errorf("data: %s: want a JSON array of strings: %v", path, err)
	}
	if len(texts) == 0 {
		return nil, fmt.Errorf("data: %s holds no texts", path)
	}
	return texts, nil
}
