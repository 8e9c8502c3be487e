//go:build !amd64

package amx

import "errors"

func probe() error { return errors.New("AMX needs an amd64 CPU") }

// matmul and packWeight are never reached: PackWeight fails first, as
// probe does.
func (w *Weight) matmul(c []float32, a []uint16, m, workers int, add bool) {
	panic("amx: no kernel on this architecture")
}

func packWeight(w []uint16, n, k int) ([]uint16, int64) {
	panic("amx: no kernel on this architecture")
}
