package robust_test

import (
	"fmt"

	"github.com/layersim/layersim/lcka/robust"
)

// The questions whose Hindi/English length ratio lies in the central half
// of the ratios; the same rows in both languages (numpy: np.quantile of
// np.log(hi/en) at 0.25 and 0.75 gives the same rows and bounds).
func ExampleLengthMatched() {
	en := []int{40, 52, 30, 61, 45, 80, 25, 70}
	hi := []int{44, 60, 60, 66, 50, 82, 26, 150}
	sel, err := robust.LengthMatched(en, hi, 0.25)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d of %d: rows %v, ratios %.3f to %.3f\n", sel.N, sel.Of, sel.Rows, sel.RatioLo, sel.RatioHi)
	// Output: 4 of 8: rows [0 1 3 4], ratios 1.071 to 1.324
}

// How much a 3-layer map moves between two formats.
func ExampleMapMovement() {
	a := [][]float64{{1, 0.8, 0.5}, {0.8, 1, 0.7}, {0.5, 0.7, 1}}
	b := [][]float64{{1, 0.7, 0.3}, {0.7, 1, 0.6}, {0.3, 0.6, 1}}
	mv, err := robust.MapMovement(a, b, []int{1, 2, 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("r = %.3f, max |Δ| = %.2f at layers %v, mean |Δ| = %.3f\n", *mv.Corr, mv.MaxAbs, mv.MaxAt, mv.MeanAbs)
	// Output: r = 0.996, max |Δ| = 0.20 at layers [1 3], mean |Δ| = 0.133
}

// Three random subsets of 4 of 10 paired questions, the rows of the
// subsampling baseline: the same rows index both languages.
func ExampleRandomSubsets() {
	subs, err := robust.RandomSubsets(10, 4, 3, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	again, _ := robust.RandomSubsets(10, 4, 3, 1)
	for _, s := range subs {
		fmt.Println(len(s), s[0] >= 0 && s[3] < 10)
	}
	fmt.Println("repeatable:", fmt.Sprint(subs) == fmt.Sprint(again))
	// Output:
	// 4 true
	// 4 true
	// 4 true
	// repeatable: true
}
