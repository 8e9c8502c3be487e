package artifacts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Meta is the content of a set's .meta.json file.
//
// The six known fields are typed; every other field of the file is kept
// verbatim in Extra (for example "revision", "pooling", "tokens_per_text")
// and written back unchanged, after the known fields, in key order.
type Meta struct {
	ModelID    string // "model_id": the model's hub id or path; required, non-empty
	NumLayers  int    // "num_layers": L, the number of layer_k arrays; required, >= 1
	Dtype      string // "dtype": the dtype the model ran in, e.g. "bfloat16" (not the file's dtype)
	MaxLength  int    // "max_length": the tokenizer truncation length
	TextsCount int    // "texts_count": the number of texts fed to the model
	Subset     string // "subset": the name of the text subset

	// Extra holds the fields other than the six above, as compact raw
	// JSON values.
	Extra map[string]json.RawMessage
}

var metaKeys = []string{"model_id", "num_layers", "dtype", "max_length", "texts_count", "subset"}

// MarshalJSON writes the known fields in the order of the layout, then the
// extra fields sorted by key, indented by two spaces.
func (m Meta) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	field := func(key string, v any) error {
		if b.Len() > 0 {
			b.WriteByte(',')
		} else {
			b.WriteByte('{')
		}
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(key) // a string always encodes
		b.Truncate(b.Len() - 1)
		b.WriteByte(':')
		switch v := v.(type) {
		case json.RawMessage:
			if err := json.Compact(&b, v); err != nil {
				return fmt.Errorf("meta: extra field %q is not valid JSON: %w", key, err)
			}
		default:
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v); err != nil {
				return err
			}
			b.Truncate(b.Len() - 1) // Encode's newline
		}
		return nil
	}
	known := []any{m.ModelID, m.NumLayers, m.Dtype, m.MaxLength, m.TextsCount, m.Subset}
	for i, k := range metaKeys {
		if err := field(k, known[i]); err != nil {
			return nil, err
		}
	}
	keys := make([]string, 0, len(m.Extra))
	for k := range m.Extra {
		if slices.Contains(metaKeys, k) {
			return nil, fmt.Errorf("meta: extra field %q shadows a known field", k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := field(k, m.Extra[k]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// UnmarshalJSON reads a meta.json object. It checks the types of the known
// fields (strings, integers; null counts as absent) and requires a
// non-empty "model_id" and a "num_layers" of at least 1.
func (m *Meta) UnmarshalJSON(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return fmt.Errorf("meta: not a JSON object: %w", err)
	}
	if fields == nil {
		return errors.New("meta: not a JSON object: null")
	}
	var out Meta
	strs := map[string]*string{"model_id": &out.ModelID, "dtype": &out.Dtype, "subset": &out.Subset}
	ints := map[string]*int{"num_layers": &out.NumLayers, "max_length": &out.MaxLength, "texts_count": &out.TextsCount}
	for key, raw := range fields {
		switch {
		case strs[key] != nil:
			if err := metaString(raw, strs[key]); err != nil {
				return fmt.Errorf("meta: %q: %w", key, err)
			}
		case ints[key] != nil:
			if err := metaInt(raw, ints[key]); err != nil {
				return fmt.Errorf("meta: %q: %w", key, err)
			}
		default:
			if out.Extra == nil {
				out.Extra = make(map[string]json.RawMessage)
			}
			var c bytes.Buffer
			if err := json.Compact(&c, raw); err != nil {
				return fmt.Errorf("meta: %q: %w", key, err)
			}
			out.Extra[key] = c.Bytes()
		}
	}
	switch {
	case out.ModelID == "":
		return errors.New(`meta: "model_id" is missing or empty`)
	case out.NumLayers < 1:
		return fmt.Errorf(`meta: "num_layers" is missing or less than 1 (%d)`, out.NumLayers)
	case out.MaxLength < 0:
		return fmt.Errorf(`meta: "max_length" is negative (%d)`, out.MaxLength)
	case out.TextsCount < 0:
		return fmt.Errorf(`meta: "texts_count" is negative (%d)`, out.TextsCount)
	}
	*m = out
	return nil
}

func metaString(raw json.RawMessage, dst *string) error {
	switch kind := jsonKind(raw); kind {
	case "null":
		return nil
	case "string":
		return json.Unmarshal(raw, dst)
	default:
		return fmt.Errorf("want a string, got %s %s", kind, raw)
	}
}

func metaInt(raw json.RawMessage, dst *int) error {
	switch kind := jsonKind(raw); kind {
	case "null":
		return nil
	case "number":
		v, err := strconv.ParseInt(string(raw), 10, 0)
		if err != nil {
			return fmt.Errorf("want an integer, got %s", raw)
		}
		*dst = int(v)
		return nil
	default:
		return fmt.Errorf("want an integer, got %s %s", kind, raw)
	}
}

// jsonKind names the kind of a valid JSON value by its first byte.
func jsonKind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}
