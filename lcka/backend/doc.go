// Package backend chooses and starts the compute backend that layersim's
// heavy math runs on: GoMLX's pure-Go backend ("go", the default), or
// GoMLX's XLA backend (go-xla) on a PJRT plugin, for CUDA GPUs
// ("xla:cuda"), CPUs ("xla:cpu") or any plugin file
// ("xla:/abs/path/plugin.so").
//
// # Choosing
//
// Parse reads a choice; the commands take it as --backend, the Go API and
// the notebooks as SetDefault or the LAYERSIM_BACKEND variable, and
// Default says which applies (SetDefault, else LAYERSIM_BACKEND, else go).
// Packages extract and cka start their backend with Shared(Default()) when
// they are given none.
//
// # Plugins, never downloaded
//
// go-xla downloads a missing plugin by default (its auto-install, from
// GitHub and PyPI). This package turns that off when it is loaded
// (xla.EnableAutoInstall(false), GOMLX_NO_AUTO_INSTALL=1) and hands go-xla
// the absolute path of a plugin Find located on the machine:
// $PJRT_PLUGIN_LIBRARY_PATH, go-xla's install folders, or the folder of
// JAX's pip package jax-cuda13-pjrt or jax-cuda12-pjrt
// (site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so, a name go-xla's
// own search does not match). For that layout XLA is told where the sibling
// nvidia-* packages keep ptxas and libdevice (XLA_FLAGS'
// --xla_gpu_cuda_data_dir, as JAX and go-xla set it). When nothing is
// found, or the plugin cannot be loaded, the error names what was looked
// for and where.
//
// # Builds
//
// The XLA backend needs cgo (go-xla loads the plugin with dlopen; no plugin
// is needed to build). The go-xla import sits in a cgo-only file: a
// CGO_ENABLED=0 build has the Go backend alone, and asking it for xla
// fails with ErrNoCgo.
//
// # Numerics
//
// TF32 is off unless a spec's options turn it on ("xla:cuda,tf32=true"):
// float32 matrix products, CKA's Gram tiles among them, stay float32.
// go-xla v0.4.1 speaks PJRT C API 0.104; a plugin of another major version
// is refused (docs/gpu.md discusses newer minor versions).
package backend
