//go:build goexperiment.simd

package simdrt

const simdExperiment = true
