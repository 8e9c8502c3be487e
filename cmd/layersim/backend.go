package main

import (
	"flag"
	"fmt"

	"github.com/layersim/layersim/lcka/backend"
)

// backendFlag adds --backend to fs.
func backendFlag(fs *flag.FlagSet) *string {
	return fs.String("backend", "", "where the heavy math runs: go (GoMLX's pure-Go backend), xla:cuda, xla:cpu or xla:/abs/path/plugin.so (a PJRT plugin found on the machine, never downloaded; default $"+backend.EnvVar+", else go)")
}

// useBackend makes the --backend value, if given, the process's backend
// (backend.SetDefault); empty leaves $LAYERSIM_BACKEND or go.
func useBackend(s string) error {
	if s == "" {
		_, err := backend.Default() // a bad $LAYERSIM_BACKEND fails before any work
		return err
	}
	spec, err := backend.Parse(s)
	if err != nil {
		return fmt.Errorf("--backend: %w", err)
	}
	backend.SetDefault(spec)
	return nil
}
