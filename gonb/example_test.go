package gonb_test

import (
	"html"
	"os"

	"github.com/layersim/layersim/gonb"
	"github.com/layersim/layersim/lcka/study"
)

func ExampleMetricsTable() {
	p, ci := 0.000999, [2]float64{0.71, 0.88}
	m := &study.Metrics{
		Models: []study.Model{{ID: "org/model", Layers: 16}},
		Pairs: []study.Pair{{
			Model: "org/model", LangA: "en", LangB: "hi", Count: 16,
			CKAMean: 0.8, CKAMedian: 0.81, CKAMin: 0.55, CKACI95: &ci, PermP: &p, StatsN: 132,
		}},
	}
	header, rows := gonb.MetricsTable(m)
	_ = gonb.WriteTableText(os.Stdout, "", header[:9], [][]string{rows[0][:9]})
	// Output:
	// model      languages  layers  CKA mean  CKA median  CKA min  CKA 95% CI        perm. p   stats n
	// org/model  en–hi      16      0.8000    0.8100      0.5500   [0.7100, 0.8800]  0.000999  132
}

func ExampleProgress() {
	// In a notebook the bar is redrawn in place; elsewhere it writes lines
	// to gonb.TextOut.
	p := gonb.NewProgress("analysis")
	res, err := study.Analyze(study.Options{Artifacts: "out/artifacts", Langs: []string{"en", "hi"}, Progress: p.Update})
	if err != nil {
		gonb.HTML("<pre>" + html.EscapeString(err.Error()) + "</pre>")
		return
	}
	p.Done("")
	gonb.Metrics(&res.Metrics)
}
