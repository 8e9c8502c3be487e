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
		flush()
	}
}

// flush waits until GoNB has taken everything displayed so far: a large
// output (a chart inlines about 1.7 MB of JavaScript) sent just before the
// cell's program ends is otherwise sometimes lost. It only waits when GoNB's
// answering pipe is a real pipe (tests stand a plain file in for it).
func flush() {
	if fi, err := os.Stat(os.Getenv("GONB_PIPE_BACK")); err == nil && fi.Mode()&os.ModeNamedPipe != 0 {
		gonbui.Sync()
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
	flush()
	return nil
}

// textOut returns where plain-text fallbacks go.
func textOut() io.Writer {
	if TextOut == nil {
		return io.Discard
	}
	return TextOut
}
