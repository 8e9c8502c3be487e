package gonb

import (
	"encoding/gob"
	"errors"
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/janpfeifer/gonb/gonbui/protocol"
)

var execCommand = exec.Command

// decodeDisplayData reads back the messages gonbui wrote to a pipe file.
func decodeDisplayData(t *testing.T, path string) []*protocol.DisplayData {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := gob.NewDecoder(f)
	var out []*protocol.DisplayData
	for {
		d := &protocol.DisplayData{}
		err := dec.Decode(d)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decoding message %d: %v", len(out), err)
		}
		out = append(out, d)
	}
}
