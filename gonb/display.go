package gonb

import (
	"io"
	"os"

	"github.com/janpfeifer/gonb/gonbui"
)

// TextOut receives the plain-text fallbacks of Table, Metrics and Progress
// when the program does not run in a notebook. It is os.Stderr unless
// changed; nil discards them.
var TextOut io.Writer = os.Stderr

// IsNotebook reports whether the program runs as a cell of a GoNB notebook.
func IsNotebook() bool { return gonbui.IsNotebook }

// HTML displays an HTML fragment as the output of the running cell. Outside
// a notebook it does nothing.
func HTML(fragment string) {
	if gonbui.IsNotebook {
		gonbui.DisplayHTML(fragment)
	}
}

// Snippeter is a chart that renders itself as an HTML fragment for a
// notebook cell, as the charts of package plots do.
type Snippeter interface {
	Snippet() (string, error)
}

// Chart displays a chart as the output of the running cell. Outside a
// notebook it does nothing and does not render the chart. The error is the
// chart's.
func Chart(c Snippeter) error {
	if !gonbui.IsNotebook {
		return nil
	}
	s, err := c.Snippet()
	if err != nil {
		return err
	}
	gonbui.DisplayHTML(s)
	return nil
}

// textOut returns where plain-text fallbacks go.
func textOut() io.Writer {
	if TextOut == nil {
		return io.Discard
	}
	return TextOut
}
