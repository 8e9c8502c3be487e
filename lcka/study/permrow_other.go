//go:build !amd64

package study

import "unsafe"

const permAsm = false

func permRowAsm(acc []float32, ka []float32, kb unsafe.Pointer, esize int, perm []int32, lp int) {
	panic("study: no permutation kernels on this architecture")
}

func bootRowAsm(acc, ka, kb []float32, drawn []int32, c []float32, lp int) {
	panic("study: no bootstrap kernels on this architecture")
}
