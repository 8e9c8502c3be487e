package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// gmmluRow has every column of Global-MMLU-Lite, as optional fields the way
// Arrow writes them.
type gmmluRow struct {
	SampleID                 string `parquet:"sample_id,optional"`
	Subject                  string `parquet:"subject,optional"`
	SubjectCategory          string `parquet:"subject_category,optional"`
	Question                 string `parquet:"question,optional"`
	OptionA                  string `parquet:"option_a,optional"`
	OptionB                  string `parquet:"option_b,optional"`
	OptionC                  string `parquet:"option_c,optional"`
	OptionD                  string `parquet:"option_d,optional"`
	Answer                   string `parquet:"answer,optional"`
	RequiredKnowledge        string `parquet:"required_knowledge,optional"`
	TimeSensitive            string `parquet:"time_sensitive,optional"`
	Reference                string `parquet:"reference,optional"`
	Culture                  string `parquet:"culture,optional"`
	Region                   string `parquet:"region,optional"`
	Country                  string `parquet:"country,optional"`
	CulturalSensitivityLabel string `parquet:"cultural_sensitivity_label,optional"`
	IsAnnotated              bool   `parquet:"is_annotated,optional"`
}

// fixtureRows builds rows for one language: the question texts are real
// (testdata/mmlu_sample.json); ids, subjects and options are made up here.
func fixtureRows(s sample, lang string) []gmmluRow {
	texts := s.En
	opts := [4]string{"first choice", "second choice", "third choice", "fourth choice"}
	if lang == "hi" {
		texts = s.Hi
		opts = [4]string{"पहला विकल्प", "दूसरा विकल्प", "तीसरा विकल्प", "चौथा विकल्प"}
	}
	rows := make([]gmmluRow, len(texts))
	for i, q := range texts {
		subj := "business_ethics"
		if i < 2 {
			subj = "astronomy"
		}
		rows[i] = gmmluRow{
			SampleID: fmt.Sprintf("%s/test/%d", subj, s.Rows[i]), Subject: subj, SubjectCategory: "Business",
			Question: q, OptionA: opts[0], OptionB: opts[1], OptionC: opts[2], OptionD: opts[3],
			Answer: string(rune('A' + i%4)), Culture: "-", Region: "-", Country: "-", CulturalSensitivityLabel: "CA",
			IsAnnotated: i%2 == 0,
		}
	}
	return rows
}

func parquetBytes(t testing.TB, rows []gmmluRow) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := parquet.Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeParquet(t testing.TB, path string, rows []gmmluRow) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, parquetBytes(t, rows), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadMMLUParquet(t *testing.T) {
	s := loadSample(t)
	path := filepath.Join(t.TempDir(), "hi", "test-00000-of-00001.parquet")
	want := fixtureRows(s, "hi")
	writeParquet(t, path, want)
	rows, err := ReadMMLUParquet(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, r := range rows {
		w := want[i]
		if r != (MMLURow{w.SampleID, w.Subject, w.SubjectCategory, w.Question, w.OptionA, w.OptionB, w.OptionC, w.OptionD, w.Answer}) {
			t.Errorf("row %d = %+v", i, r)
		}
	}
}

// A file written with required (non-null) columns reads the same.
func TestReadMMLUParquetRequiredColumns(t *testing.T) {
	type reqRow struct {
		SampleID string `parquet:"sample_id"`
		Subject  string `parquet:"subject"`
		Question string `parquet:"question"`
		OptionA  string `parquet:"option_a"`
		OptionB  string `parquet:"option_b"`
		OptionC  string `parquet:"option_c"`
		OptionD  string `parquet:"option_d"`
		Answer   string `parquet:"answer"`
		Extra    int64  `parquet:"extra"`
	}
	var buf bytes.Buffer
	if err := parquet.Write(&buf, []reqRow{{"x/test/1", "x", "Q?", "a", "b", "c", "d", "A", 5}}); err != nil {
		t.Fatal(err)
	}
	rows, err := parseMMLUParquet(buf.Bytes())
	if err != nil || len(rows) != 1 || rows[0].Question != "Q?" || rows[0].OptionD != "d" {
		t.Errorf("rows = %+v, %v", rows, err)
	}
}

func TestGlobalMMLULiteFolder(t *testing.T) {
	s := loadSample(t)
	dir := t.TempDir()
	en, hi := fixtureRows(s, "en"), fixtureRows(s, "hi")
	// English in two files; Hindi reordered, without its row 5 and with a
	// row that English lacks.
	writeParquet(t, filepath.Join(dir, "en", "test-00000-of-00002.parquet"), en[:10])
	writeParquet(t, filepath.Join(dir, "en", "test-00001-of-00002.parquet"), en[10:])
	hiShuffled := slices.Clone(hi)
	slices.Reverse(hiShuffled)
	hiShuffled = slices.DeleteFunc(hiShuffled, func(r gmmluRow) bool { return r.SampleID == hi[5].SampleID })
	extra := hi[0]
	extra.SampleID = "extra/test/999"
	hiShuffled = append(hiShuffled, extra)
	writeParquet(t, filepath.Join(dir, "hi", "test-00000-of-00001.parquet"), hiShuffled)
	writeParquet(t, filepath.Join(dir, "hi", "dev-00000-of-00001.parquet"), hi[:3])
	writeParquet(t, filepath.Join(dir, "en", "dev-00000-of-00001.parquet"), en[:3])

	p, err := LoadGlobalMMLULite(dir, "", []string{"en", "hi"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != 20 {
		t.Fatalf("%d pairs, want 20 (21 less the one Hindi lacks)", p.Len())
	}
	for i, id := range p.IDs {
		k := i
		if i >= 5 {
			k = i + 1 // Row 5 was dropped.
		}
		if id != en[k].SampleID || p.Texts["en"][i] != s.En[k] || p.Texts["hi"][i] != s.Hi[k] || p.Subjects[i] != en[k].Subject {
			t.Fatalf("pair %d: id %s, en %.30q, hi %.30q; want id %s", i, id, p.Texts["en"][i], p.Texts["hi"][i], en[k].SampleID)
		}
	}
	if !slices.Equal(p.Dropped["en"], []string{en[5].SampleID}) || !slices.Equal(p.Dropped["hi"], []string{"extra/test/999"}) {
		t.Errorf("dropped = %v", p.Dropped)
	}
	if p.Name != "global-mmlu-lite:"+dir+":test" {
		t.Errorf("name = %q", p.Name)
	}
	// Strict: the unmatched rows are listed.
	_, err = LoadGlobalMMLULite(dir, "test", []string{"en", "hi"}, Options{Strict: true})
	if err == nil || !strings.Contains(err.Error(), "1 en rows") || !strings.Contains(err.Error(), en[5].SampleID) || !strings.Contains(err.Error(), "extra/test/999") {
		t.Errorf("strict: %v", err)
	}
	// The dev split and the template with options.
	p, err = LoadGlobalMMLULite(dir, "dev", []string{"hi", "en"}, Options{Format: QuestionWithOptions})
	if err != nil {
		t.Fatal(err)
	}
	wantText := "Question: " + s.Hi[1] + "\nA. पहला विकल्प\nB. दूसरा विकल्प\nC. तीसरा विकल्प\nD. चौथा विकल्प\nAnswer:"
	if p.Len() != 3 || p.Texts["hi"][1] != wantText || !strings.HasPrefix(p.Texts["en"][0], "Question: When traveling north") {
		t.Errorf("dev with options: %d pairs, hi[1] = %q", p.Len(), p.Texts["hi"][1])
	}
	for _, tc := range []struct {
		split string
		langs []string
		want  string
	}{
		{"validation", []string{"en"}, "splits test and dev"},
		{"test", []string{"en", "fr"}, "no fr/test-*.parquet"},
		{"test", nil, "name the languages"},
	} {
		if _, err := LoadGlobalMMLULite(dir, tc.split, tc.langs, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: err = %v, want %q", tc.split, tc.langs, err, tc.want)
		}
	}
}

func TestMMLUParquetErrors(t *testing.T) {
	s := loadSample(t)
	good := parquetBytes(t, fixtureRows(s, "en"))
	type noQuestion struct {
		SampleID string `parquet:"sample_id"`
		Subject  string `parquet:"subject"`
	}
	var nq bytes.Buffer
	parquet.Write(&nq, []noQuestion{{"a", "b"}})
	dupRows := fixtureRows(s, "en")[:2]
	dupRows[1].SampleID = dupRows[0].SampleID
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"text", []byte("sample_id,question\n1,hi\n"), "not a readable parquet file"},
		{"truncated", good[:len(good)/2], "parquet"},
		{"footer only", good[len(good)-200:], "parquet"},
		{"flipped", flipBytes(good), "parquet"},
		{"columns", nq.Bytes(), "no column question, option_a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "en", "test-0.parquet")
			os.MkdirAll(filepath.Dir(path), 0o755)
			os.WriteFile(path, tc.data, 0o644)
			_, err := LoadGlobalMMLULite(dir, "test", []string{"en"}, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "test-0.parquet") {
				t.Errorf("err = %v, want one naming the file and saying %q", err, tc.want)
			}
		})
	}
	dir := t.TempDir()
	writeParquet(t, filepath.Join(dir, "en", "test-0.parquet"), dupRows)
	if _, err := LoadGlobalMMLULite(dir, "test", []string{"en"}, Options{}); err == nil || !strings.Contains(err.Error(), "appears twice") {
		t.Errorf("duplicate sample_id: %v", err)
	}
}

// frame wraps a hand-made thrift footer into a parquet file.
func frame(footer []byte) []byte {
	b := append([]byte("PAR1"), footer...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(footer)))
	return append(b, "PAR1"...)
}

// TestParquetFooterLimits: footers that claim more than the file holds are
// rejected before the parquet library allocates (these inputs made it
// request gigabytes).
func TestParquetFooterLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"footer length", append(append([]byte("PAR1xxxx"), 0xff, 0xff, 0xff, 0x7f), "PAR1"...), "footer of 2147483647 bytes"},
		// version: i32 1; schema: list of 2^31-1 structs.
		{"list size", frame([]byte{0x15, 0x02, 0x19, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00}), "length 2147483647 exceeds"},
		// created_by (field 6): a binary of 2^30 bytes.
		{"string length", frame([]byte{0x68, 0x80, 0x80, 0x80, 0x80, 0x04, 'a', 0x00}), "length 1073741824 exceeds"},
		{"deep nesting", frame(bytes.Repeat([]byte{0x1c}, 200)), "nested deeper"},
		{"unknown type", frame([]byte{0x1e, 0x00}), "unknown thrift type 14"},
		{"truncated", frame([]byte{0x15}), "truncated"},
		{"no magic", []byte("PAR1 not really a parquet file"), "missing PAR1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseMMLUParquet(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// flipBytes corrupts the middle of a file (column data, not the footer).
func flipBytes(b []byte) []byte {
	c := slices.Clone(b)
	for i := 4; i < len(c)/2; i += 7 {
		c[i] ^= 0x5a
	}
	return c
}

// FuzzParseMMLUParquet: corrupt parquet files give errors, never panics.
func FuzzParseMMLUParquet(f *testing.F) {
	s := loadSample(f)
	good := parquetBytes(f, fixtureRows(s, "hi")[:3])
	f.Add(good)
	f.Add(good[:len(good)-10])
	f.Add(flipBytes(good))
	f.Add([]byte("PAR1PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := parseMMLUParquet(data)
		if err == nil && rows == nil {
			t.Fatal("no rows and no error")
		}
		if err != nil && errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	})
}

// arrowLikeRow is stored the way Arrow writers usually store strings:
// dictionary encoded and compressed.
type arrowLikeRow struct {
	SampleID string `parquet:"sample_id,optional,snappy"`
	Subject  string `parquet:"subject,optional,dict,snappy"`
	Question string `parquet:"question,optional,zstd"`
	OptionA  string `parquet:"option_a,optional,dict,gzip"`
	OptionB  string `parquet:"option_b,optional,dict"`
	OptionC  string `parquet:"option_c,optional"`
	OptionD  string `parquet:"option_d,optional"`
	Answer   string `parquet:"answer,optional,dict,snappy"`
}

// TestReadMMLUParquetEncodings: dictionary pages, compression codecs, data
// page versions 1 and 2, several pages per chunk and several row groups all
// pass the checks and read back exactly.
func TestReadMMLUParquetEncodings(t *testing.T) {
	s := loadSample(t)
	src := fixtureRows(s, "hi")
	rows := make([]arrowLikeRow, len(src))
	for i, r := range src {
		rows[i] = arrowLikeRow{r.SampleID, r.Subject, r.Question, r.OptionA, r.OptionB, r.OptionC, r.OptionD, r.Answer}
	}
	for _, version := range []int{1, 2} {
		var buf bytes.Buffer
		w := parquet.NewGenericWriter[arrowLikeRow](&buf, parquet.DataPageVersion(version), parquet.PageBufferSize(256), parquet.MaxRowsPerRowGroup(8))
		if _, err := w.Write(rows); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := parseMMLUParquet(buf.Bytes())
		if err != nil {
			t.Fatalf("page version %d: %v", version, err)
		}
		if len(got) != len(rows) {
			t.Fatalf("page version %d: %d rows", version, len(got))
		}
		for i, r := range got {
			if r.Question != rows[i].Question || r.SampleID != rows[i].SampleID || r.OptionA != rows[i].OptionA || r.Answer != rows[i].Answer {
				t.Errorf("page version %d row %d = %+v", version, i, r)
			}
		}
	}
}
