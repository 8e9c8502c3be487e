//go:build !(goexperiment.simd && amd64)

package main

func available() bool { return false }

func fmaLoop(int) {}
