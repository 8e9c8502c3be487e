package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// errNoConfigToken reports a special token name absent from the vocabulary.
var errNoConfigToken = errors.New("tokenizer: special token not in the vocabulary")

// Config holds the special-token names that a Hugging Face
// tokenizer_config.json declares; empty when not declared.
type Config struct {
	BOS, EOS, Pad, Unk string
}

// SpecialIDs are the ids of the special tokens a Config declares; -1 when not
// declared.
type SpecialIDs struct {
	BOS, EOS, Pad, Unk int
}

// LoadConfig reads a tokenizer_config.json file.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("tokenizer: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%w (%s)", err, path)
	}
	return c, nil
}

// ParseConfig parses the bos_token, eos_token, pad_token and unk_token fields
// of a tokenizer_config.json; each is null, a string, or an object with a
// "content" string.
func ParseConfig(data []byte) (Config, error) {
	var raw struct {
		BOS json.RawMessage `json:"bos_token"`
		EOS json.RawMessage `json:"eos_token"`
		Pad json.RawMessage `json:"pad_token"`
		Unk json.RawMessage `json:"unk_token"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Config{}, fmt.Errorf("tokenizer: config: %w", err)
	}
	var c Config
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *string
	}{{"bos_token", raw.BOS, &c.BOS}, {"eos_token", raw.EOS, &c.EOS}, {"pad_token", raw.Pad, &c.Pad}, {"unk_token", raw.Unk, &c.Unk}} {
		if isNull(f.raw) {
			continue
		}
		if err := json.Unmarshal(f.raw, f.dst); err == nil {
			continue
		}
		var obj struct {
			Content *string `json:"content"`
		}
		if err := json.Unmarshal(f.raw, &obj); err != nil || obj.Content == nil {
			return Config{}, fmt.Errorf("tokenizer: config: %s must be null, a string or an object with content", f.name)
		}
		*f.dst = *obj.Content
	}
	return c, nil
}

// SpecialIDs resolves the names of c to ids; a declared name that is not a
// token is an error.
func (t *Tokenizer) SpecialIDs(c Config) (SpecialIDs, error) {
	ids := SpecialIDs{-1, -1, -1, -1}
	for _, f := range []struct {
		name string
		dst  *int
	}{{c.BOS, &ids.BOS}, {c.EOS, &ids.EOS}, {c.Pad, &ids.Pad}, {c.Unk, &ids.Unk}} {
		if f.name == "" {
			continue
		}
		id, ok := t.TokenID(f.name)
		if !ok {
			return SpecialIDs{}, fmt.Errorf("%w: %q", errNoConfigToken, f.name)
		}
		*f.dst = id
	}
	return ids, nil
}
