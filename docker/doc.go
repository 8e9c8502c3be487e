// Package docker holds layersim's container images and the tests that check
// them where no Docker engine runs. It has no Go API.
//
// Dockerfile is the CPU image, Dockerfile.cuda the same on NVIDIA's CUDA
// runtime image with XLA's PJRT CUDA plugin in place; README.md tells how
// to build and run them. Both build from the repository root and run the
// set-up script that the README and .ci/run use (scripts/setup, which runs
// scripts/gonb-setup for the Jupyter kernel), so the three cannot drift.
//
// The tests parse both Dockerfiles with BuildKit's own Dockerfile parser
// (github.com/moby/buildkit/frontend/dockerfile, the one docker build uses)
// and check what a build would otherwise find late or never:
//
//   - the parser and BuildKit's parse-time lint rules report nothing;
//   - every COPY source exists and is not left out of the build context by
//     the Dockerfile's .dockerignore, which keeps node_modules out so that the
//     image installs the npm packages from their lock files;
//   - the images run scripts/setup, the script .ci/run runs, from a copy of
//     the whole checkout, and through it scripts/gonb-setup, with the kernel
//     registered where every user's Jupyter looks;
//   - base images are pinned by a version tag and a sha256 digest, and pip
//     installs name exact versions;
//   - the last USER before CMD and ENTRYPOINT is not root;
//   - no ARG or ENV holds a secret: HF_TOKEN comes from docker run -e;
//   - GOEXPERIMENT=simd is set before anything is built;
//   - the exposed port is the one JupyterLab listens on and README.md uses,
//     HF_HOME lies on the volume, the working directory holds the notebooks;
//   - the CUDA plugin sits where github.com/gomlx/go-xla v0.4.1 looks for it
//     (PJRT_PLUGIN_LIBRARY_PATH, file name pjrt_c_api_cuda_plugin.so, the
//     NVIDIA libraries in the nvidia folder next to it).
//
// dockerfilelint (installed by scripts/setup under docker/lint) runs on both
// files in a test.
package docker
