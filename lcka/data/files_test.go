package data

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

type sample struct {
	Rows []int    `json:"rows"`
	En   []string `json:"en"`
	Hi   []string `json:"hi"`
}

// loadSample reads 21 real Global-MMLU-Lite question pairs (testdata).
func loadSample(t testing.TB) sample {
	t.Helper()
	data, err := os.ReadFile("testdata/mmlu_sample.json")
	if err != nil {
		t.Fatal(err)
	}
	var s sample
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.En) != 21 || len(s.Hi) != 21 {
		t.Fatalf("sample has %d/%d texts", len(s.En), len(s.Hi))
	}
	return s
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadFileLayouts(t *testing.T) {
	dir := t.TempDir()
	want := &Parallel{
		Langs:    []string{"en", "hi"},
		IDs:      []string{"q1", "7"},
		Subjects: []string{"math", ""},
		Texts: map[string][]string{
			"en": {"Two plus two?", "Line one\nline \"two\", 3"},
			"hi": {"दो और दो?", "पहली पंक्ति\nदूसरी \"पंक्ति\", 3"},
		},
	}
	files := map[string]string{
		"objects.json": `[{"id":"q1","subject":"math","en":"Two plus two?","hi":"दो और दो?","answer":4},
			{"id":7,"en":"Line one\nline \"two\", 3","hi":"पहली पंक्ति\nदूसरी \"पंक्ति\", 3"}]`,
		"columns.json": `{"id":["q1",7],"subject":["math",""],"en":["Two plus two?","Line one\nline \"two\", 3"],
			"hi":["दो और दो?","पहली पंक्ति\nदूसरी \"पंक्ति\", 3"]}`,
		"lines.jsonl": "{\"id\":\"q1\",\"subject\":\"math\",\"en\":\"Two plus two?\",\"hi\":\"दो और दो?\"}\n\n" +
			"{\"id\":\"7\",\"en\":\"Line one\\nline \\\"two\\\", 3\",\"hi\":\"पहली पंक्ति\\nदूसरी \\\"पंक्ति\\\", 3\"}\n",
		"table.csv": "\ufeffid,subject,en,hi\nq1,math,Two plus two?,दो और दो?\n7,,\"Line one\nline \"\"two\"\", 3\",\"पहली पंक्ति\nदूसरी \"\"पंक्ति\"\", 3\"\n",
	}
	for name, content := range files {
		t.Run(name, func(t *testing.T) {
			path := write(t, dir, name, content)
			for _, langs := range [][]string{nil, {"en", "hi"}} {
				p, err := ReadFile(path, langs)
				if err != nil {
					t.Fatal(err)
				}
				if p.Name != path {
					t.Errorf("name = %q", p.Name)
				}
				p.Name = ""
				if name == "objects.json" && langs == nil {
					continue // "answer" is not a string, so not a language; checked below.
				}
				if !reflect.DeepEqual(p, want) {
					t.Errorf("langs %v:\ngot  %+v\nwant %+v", langs, p, want)
				}
			}
		})
	}
	// Only string fields count as languages when none are named.
	p, err := ReadFile(filepath.Join(dir, "objects.json"), nil)
	if err != nil || !slices.Equal(p.Langs, []string{"en", "hi"}) {
		t.Errorf("objects.json langs = %v, %v", p.Langs, err)
	}
	// Selecting one language of several.
	p, err = ReadFile(filepath.Join(dir, "table.csv"), []string{"hi"})
	if err != nil || len(p.Texts) != 1 || p.Texts["hi"][0] != "दो और दो?" {
		t.Errorf("hi only: %+v, %v", p, err)
	}
}

// TestPerLanguageFiles reads real Global-MMLU-Lite texts stored as one JSON
// array per language, the layout of the original study.
func TestPerLanguageFiles(t *testing.T) {
	s := loadSample(t)
	dir := t.TempDir()
	for lang, texts := range map[string][]string{"en": s.En, "hi": s.Hi} {
		b, _ := json.Marshal(texts)
		write(t, dir, "test_"+lang+".json", string(b))
	}
	p, err := ReadFile(filepath.Join(dir, "test_{lang}.json"), []string{"en", "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != 21 || p.IDs[0] != "1" || p.Texts["hi"][1] != s.Hi[1] || p.Texts["en"][20] != s.En[20] {
		t.Errorf("got %d items, first id %q", p.Len(), p.IDs[0])
	}
	write(t, dir, "short_en.json", `["a","b"]`)
	write(t, dir, "short_hi.json", `["क"]`)
	if _, err := ReadFile(filepath.Join(dir, "short_{lang}.json"), []string{"en", "hi"}); err == nil || !strings.Contains(err.Error(), "must be parallel") {
		t.Errorf("mismatched lengths: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "test_{lang}.json"), []string{"en", "fr"}); err == nil || !strings.Contains(err.Error(), "test_fr.json") {
		t.Errorf("missing language file: %v", err)
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		langs         []string
		want          string
	}{
		{"missing.json", `[{"en":"a"}]`, []string{"en", "hi"}, `record 1 (id "1") has no "hi" text`},
		{"empty.json", `[{"en":"a","hi":"  "}]`, nil, `language "hi": empty text`},
		{"number.json", `[{"en":"a","hi":5}]`, []string{"en", "hi"}, `text "hi" must be a string`},
		{"strings.json", `["a","b"]`, nil, "use a path with {lang}"},
		{"lengths.json", `{"en":["a","b"],"hi":["क"]}`, nil, `"en" has 2 texts but "hi" has 1`},
		{"noarray.json", `{"en":["a"]}`, []string{"en", "hi"}, `no "hi" array`},
		{"dup.json", `[{"id":"x","en":"a","hi":"क"},{"id":"x","en":"b","hi":"ख"}]`, nil, `id "x" used by items 0 and 1`},
		{"badid.json", `[{"id":1.5,"en":"a","hi":"क"}]`, nil, "id must be a string or an integer"},
		{"nothing.json", `[]`, nil, "no prompts"},
		{"blank.json", ``, nil, "empty JSON"},
		{"scalar.json", `42`, nil, "array of objects or an object of arrays"},
		{"broken.jsonl", "{\"en\":\"a\",\"hi\":\"क\"}\n{\"en\":", nil, "line 2 is not a JSON object"},
		{"badutf8.jsonl", "{\"en\":\"a\xff\",\"hi\":\"क\"}", nil, "not valid UTF-8"},
		{"nocol.csv", "id,en\n1,a\n", []string{"en", "hi"}, `no column for language "hi"`},
		{"ragged.csv", "id,en,hi\n1,a\n", nil, "wrong number of fields"},
		{"dupcol.csv", "en,en\na,b\n", nil, `column "en" appears twice`},
		{"noname.csv", "en,,hi\na,b,c\n", nil, "column 2 has no name"},
		{"emptyid.csv", "id,en,hi\n,a,क\n", nil, "line 2: empty id"},
		{"emptycell.csv", "id,en,hi\n1,a,\n", nil, `language "hi": empty text`},
		{"headeronly.csv", "id,en,hi\n", nil, "no prompts"},
		{"x.txt", "hello", nil, "unknown prompt file type"},
		{"badlang.json", `[{"en":"a","hi hi":"क"}]`, nil, `invalid language code "hi hi"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := write(t, dir, tc.name, tc.content)
			_, err := ReadFile(path, tc.langs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func fuzzCheck(t *testing.T, p *Parallel, err error) {
	if err != nil {
		return
	}
	if verr := p.Validate(); verr != nil {
		t.Fatalf("reader returned an invalid set: %v", verr)
	}
}

func FuzzReadJSON(f *testing.F) {
	f.Add([]byte(`[{"id":"q1","subject":"math","en":"Two plus two?","hi":"दो और दो?"}]`))
	f.Add([]byte(`{"id":[1,2],"en":["a","b"],"hi":["क","ख"]}`))
	f.Add([]byte(`[{"en":"a"},{"hi":"b"}]`))
	f.Add([]byte(`{"en":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadJSON(strings.NewReader(string(data)), nil)
		fuzzCheck(t, p, err)
		p, err = ReadJSON(strings.NewReader(string(data)), []string{"en", "hi"})
		fuzzCheck(t, p, err)
	})
}

func FuzzReadJSONL(f *testing.F) {
	f.Add([]byte("{\"id\":\"a\",\"en\":\"x\",\"hi\":\"य\"}\n{\"id\":\"b\",\"en\":\"y\",\"hi\":\"र\"}\n"))
	f.Add([]byte("\n\n{\"en\":\"x\"}"))
	f.Add([]byte("{\"id\":1e3,\"en\":\"x\",\"hi\":\"y\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadJSONL(strings.NewReader(string(data)), nil)
		fuzzCheck(t, p, err)
		p, err = ReadJSONL(strings.NewReader(string(data)), []string{"hi"})
		fuzzCheck(t, p, err)
	})
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("id,subject,en,hi\nq1,math,Two plus two?,दो और दो?\n7,,\"a\nb\",\"क\nख\"\n"))
	f.Add([]byte("en,hi\na,b\n"))
	f.Add([]byte("\ufeffid,en\n1,\"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadCSV(strings.NewReader(string(data)), nil)
		fuzzCheck(t, p, err)
		p, err = ReadCSV(strings.NewReader(string(data)), []string{"en", "hi"})
		fuzzCheck(t, p, err)
	})
}
