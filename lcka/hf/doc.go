// Package hf reads Hugging Face model folders and fetches them from the hub.
//
// # Model folders
//
// A model folder holds config.json, tokenizer files and safetensors weights,
// either one model.safetensors or shards listed by
// model.safetensors.index.json (its weight_map maps tensor names to shard
// files). LoadConfig parses config.json into a Config: the Llama family
// (model_type llama), Mistral, Qwen2 (biases on q, k and v) and Qwen3
// (per-head RMS norm of queries and keys) are checked fully (head counts
// dividing sizes, positive constants, rope_scaling of type llama3, yarn,
// linear or dynamic); other families (gpt_oss) are parsed where fields are
// shared and keep their raw JSON in Config.Raw. OpenCheckpoint opens the
// weights and finds tensors by name.
//
// # Safetensors
//
// A safetensors file is an 8-byte little-endian header length n, a JSON
// header of n bytes mapping each tensor name to {dtype, shape,
// data_offsets: [begin, end]} (plus an optional "__metadata__" map of
// strings), then the data section; offsets count from the start of the
// data section. OpenSafetensors maps the file into memory (reading it where
// mapping is unavailable) and rejects, with the file and tensor named:
// headers running past the file, unknown dtypes, duplicate names, offsets
// whose length differs from size(dtype)·∏shape, and tensors that overlap,
// leave holes or do not cover the data section exactly (the rules of the
// reference implementation). Tensor.Float32 converts
//
//	BF16: f32 bits = b << 16 (exact)
//	F16:  (-1)^s · 2^(e-15) · (1 + m/1024), subnormals 2^-14 · m/1024 (exact;
//	      infinities and NaN payloads kept)
//	F64:  rounded to the nearest float32 (Float64 is exact)
//
// U8, I32 and I64 tensors are read with Uint8, Int32 and Int64.
// WriteSafetensors writes F32, BF16 and F16 files (rounding to nearest, ties
// to even) atomically: temporary file, fsync, rename.
//
// # Hub and cache
//
// Resolve takes a local folder, used as is, or a hub id "org/name" (with an
// optional "@revision", or Options.Revision; "main" by default). For a hub
// id it fetches config.json, tokenizer.json, tokenizer_config.json and
// generation_config.json when present, and the safetensors weights (index
// and shards, or model.safetensors) into the standard cache layout shared
// with the Python tools:
//
//	<cache>/models--org--name/blobs/<etag>                 file contents
//	<cache>/models--org--name/snapshots/<commit>/<file>    links to ../../blobs/<etag>
//	<cache>/models--org--name/refs/<revision>              the commit of a branch or tag
//	<cache>/models--org--name/.no_exist/<commit>/<file>    files known to be absent
//
// The cache is $HF_HUB_CACHE, else $HF_HOME/hub, else
// ~/.cache/huggingface/hub. The hub's base URL is $HF_ENDPOINT or
// DefaultEndpoint; HF_TOKEN (or HUGGING_FACE_HUB_TOKEN) is sent as a Bearer
// token, to the hub's host only, for gated repositories. Every file is
// first asked for with a HEAD on {endpoint}/{repo}/resolve/{revision}/{file}:
// the X-Repo-Commit header fixes the commit (later files are asked at that
// commit), X-Linked-Etag or ETag names the blob, and a redirect to another
// host gives the download URL. Downloads go to blobs/<etag>.incomplete and
// resume with a Range request after a broken connection or an earlier run;
// blobs whose etag is a sha256 are checked against it. With
// HF_HUB_OFFLINE=1 (or Options.Offline), or when the hub cannot be reached,
// a complete cached snapshot is used. HTTP 401 and 403 give ErrGated with
// advice about HF_TOKEN, 404 gives ErrNotFound. Two processes downloading
// the same blob at the same time are not coordinated.
//
// Download and ListFiles give access to single files of model and dataset
// repositories (datasets live under datasets--org--name).
package hf
