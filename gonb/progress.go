package gonb

import (
	"fmt"
	"html"
	"strings"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"

	"github.com/layersim/layersim/lcka/extract"
)

// Progress shows how far a long job has come: in a notebook, a bar that is
// redrawn in place (one gonbui.UpdateHTML block per Progress); elsewhere,
// lines of text on TextOut. Its Update method has the signature of
// study.Options.Progress. A Progress is safe for concurrent use.
type Progress struct {
	title string
	id    string
	now   func() time.Time

	// Minimum time between two redraws of the same stage: the bar, the text.
	barEvery, textEvery time.Duration

	mu                 sync.Mutex
	start              time.Time
	stage, detail      string
	notes              []string // the last maxNotes events, oldest first
	done, total        int
	finished           bool
	lastBar, lastText  time.Time
	drawnBar, drawnTxt bool
}

// NewProgress returns a Progress with the given title. Nothing is shown
// until the first Update.
func NewProgress(title string) *Progress {
	return &Progress{
		title: title, id: "layersim-progress-" + gonbui.UniqueId(), now: time.Now,
		barEvery: 200 * time.Millisecond, textEvery: 5 * time.Second,
		start: time.Now(),
	}
}

// Update records that done of total steps of stage are finished, and
// redraws the bar (at most five times a second) or writes a line (at most
// every five seconds), always on a new stage and on done ≥ total. A total
// of 0 or less means the size of the stage is unknown.
func (p *Progress) Update(stage string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.updateLocked(stage, "", "", done, total)
}

// maxNotes is how many events a bar shows under it.
const maxNotes = 5

// Extract is the progress callback of lcka/extract (extract.Options.Progress):
// the stage is the model and the language, the bar counts texts, and the
// speed, time left and batch size follow; events (resumed, skipped, batch
// halved, written) are listed under the bar, or written on lines of their
// own outside a notebook.
func (p *Progress) Extract(e extract.Progress) {
	var d []string
	if e.TokensPerSec > 0 {
		d = append(d, fmt.Sprintf("%.0f tok/s", e.TokensPerSec))
		if e.Done < e.Total && e.ETA > 0 {
			d = append(d, "ETA "+extract.RoundDuration(e.ETA).String())
		}
	}
	if e.BatchSize > 0 {
		d = append(d, fmt.Sprintf("batch %d", e.BatchSize))
	}
	note := ""
	if e.Note != "" {
		note = e.Model + " " + e.Lang + ": " + e.Note
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.updateLocked(strings.TrimSpace(e.Model+" "+e.Lang), strings.Join(d, " · "), note, e.Done, e.Total)
}

func (p *Progress) updateLocked(stage, detail, note string, done, total int) {
	t := p.now()
	newStage := stage != p.stage || !p.drawnBar && !p.drawnTxt || note != ""
	p.stage, p.detail, p.done, p.total, p.finished = stage, detail, done, total, false
	if note != "" {
		p.notes = append(p.notes, note)
		if len(p.notes) > maxNotes {
			p.notes = p.notes[len(p.notes)-maxNotes:]
		}
	}
	complete := total > 0 && done >= total
	if gonbui.IsNotebook {
		if newStage || complete || t.Sub(p.lastBar) >= p.barEvery {
			p.lastBar, p.drawnBar = t, true
			gonbui.UpdateHTML(p.id, p.htmlLocked(t))
		}
		return
	}
	if note != "" {
		fmt.Fprintln(textOut(), note)
	}
	if newStage || complete || t.Sub(p.lastText) >= p.textEvery {
		p.lastText, p.drawnTxt = t, true
		fmt.Fprintln(textOut(), p.textLocked(t))
	}
}

// Done marks the job finished and draws the final state: the bar full,
// the elapsed time, and the given message if not empty.
func (p *Progress) Done(message string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.now()
	p.finished = true
	if message != "" {
		p.stage, p.detail = message, ""
	}
	if gonbui.IsNotebook {
		gonbui.UpdateHTML(p.id, p.htmlLocked(t))
		flush()
		return
	}
	fmt.Fprintln(textOut(), p.textLocked(t))
}

// HTML returns the bar in its current state, as an HTML fragment.
func (p *Progress) HTML() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.htmlLocked(p.now())
}

// String returns the current state as one line of text.
func (p *Progress) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.textLocked(p.now())
}

// percent returns the share of the stage done, in [0, 100], and whether it
// is known.
func (p *Progress) percent() (float64, bool) {
	if p.finished {
		return 100, true
	}
	if p.total <= 0 {
		return 0, false
	}
	f := 100 * float64(p.done) / float64(p.total)
	return min(max(f, 0), 100), true
}

// status is the text next to the bar: the stage, the counts and the time.
func (p *Progress) status(t time.Time) string {
	var b strings.Builder
	if p.stage != "" {
		b.WriteString(p.stage)
	}
	if !p.finished && p.total > 0 {
		pct, _ := p.percent()
		fmt.Fprintf(&b, " %d/%d (%.0f%%)", p.done, p.total, pct)
	}
	if p.detail != "" && !p.finished {
		b.WriteString(" · " + p.detail)
	}
	elapsed := t.Sub(p.start).Round(100 * time.Millisecond)
	if p.finished {
		fmt.Fprintf(&b, " — done in %v", elapsed)
	} else {
		fmt.Fprintf(&b, " — %v", elapsed)
	}
	return strings.TrimSpace(b.String())
}

func (p *Progress) textLocked(t time.Time) string {
	if p.title == "" {
		return p.status(t)
	}
	return p.title + ": " + p.status(t)
}

func (p *Progress) htmlLocked(t time.Time) string {
	pct, known := p.percent()
	color := "#3b7dd8"
	if p.finished {
		color = "#2e9e5b"
	}
	var b strings.Builder
	// The id is the display id: every redraw of the bar carries it, so a
	// page can tell the bar's successive states apart from other bars.
	fmt.Fprintf(&b, `<div class="layersim-progress" id="%s" style="font-family:sans-serif;font-size:13px;margin:4px 0">`, p.id)
	b.WriteString(`<div class="layersim-progress-label">`)
	if p.title != "" {
		b.WriteString(`<b>` + html.EscapeString(p.title) + `</b> `)
	}
	b.WriteString(html.EscapeString(p.status(t)))
	b.WriteString(`</div>`)
	b.WriteString(`<div style="width:420px;height:12px;background:#e4e4e4;border-radius:3px;overflow:hidden"`)
	if known {
		fmt.Fprintf(&b, ` role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="%.1f">`, pct)
	} else {
		b.WriteString(` role="progressbar" aria-valuemin="0" aria-valuemax="100">`)
	}
	fmt.Fprintf(&b, `<div class="layersim-progress-fill" style="width:%.1f%%;height:100%%;background:%s"></div>`, pct, color)
	b.WriteString(`</div>`)
	if len(p.notes) > 0 {
		b.WriteString(`<ul class="layersim-progress-notes" style="margin:2px 0;padding-left:18px;color:#555;font-size:12px">`)
		for _, n := range p.notes {
			b.WriteString(`<li>` + html.EscapeString(n) + `</li>`)
		}
		b.WriteString(`</ul>`)
	}
	b.WriteString(`</div>`)
	return b.String()
}
