// Package gpu holds the test of scripts/gpu/check, the prepared GPU check
// of the XLA backend (docs/gpu.md): its dry run, on the CPU, with a layersim
// built from this checkout. The package has no code of its own.
package gpu
