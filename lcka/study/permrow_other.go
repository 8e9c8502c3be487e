//go:build !amd64

package study

import "unsafe"

const permAsm = false

func permRowAsm(acc []float32, ka []float32, kb unsafe.Pointer, esize int, perm []int32, lp int) {
	panic("study: no permutation kernels on this architecture")
}
