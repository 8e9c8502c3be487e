// Package artifacts reads and writes the activation artifacts of a
// layer-similarity study: for each model and language, the hidden state of
// every layer on every text, in the layout of the original Python study, so
// that the Go and Python code can read each other's files.
//
// # Layout
//
// A set is one (model, language, split). Its files live in one folder:
//
//	ROOT/models/<slug>/<lang>/activations/
//	    <slug>_<lang>_<split>.npz          the layers (or the folder below)
//	    <slug>_<lang>_<split>/             the layers as .npy files (alternative)
//	        layer_1.npy … layer_L.npy
//	    <slug>_<lang>_<split>.meta.json    required
//	    <slug>_<lang>_<split>.texts.json   optional
//
// A set extracted in shards (package extract, Options.Shard) is written as
// parts first, each a set of its own layout in the folder
// <slug>_<lang>_<split>.parts next to the set: part-<i>-of-<N>.npz,
// .meta.json and .texts.json, whose meta.json has a "shard" field (Part:
// index, count, first row, rows, total rows). OpenParts reads a complete,
// consistent set of parts as the whole set, and Open and Discover do so
// when the set itself is not written (yet); CreatePart and OpenPart write
// and read one part.
//
// <slug> names the model's folder (for example a hub id with "/" replaced),
// <lang> the language's, and <split> the text split, usually "test". Slugs
// and languages may contain '_' and '.', but no path separator and no
// leading '.'; a split has no '.' either, so that file names parse back.
//
// The layers are L arrays of shape [N, D]: row i is the pooled hidden state
// of text i at that layer. They are either
//
//   - an .npz archive (np.savez, or np.savez_compressed) whose entries
//     "layer_1.npy" … "layer_L.npy" (np.load keys layer_1 … layer_L) hold
//     the layers; other entries are ignored; or
//   - a folder of the same base name holding layer_1.npy … layer_L.npy,
//     one np.save file per layer; other files are ignored.
//
// Readers accept float16, float32 and float64 arrays, little- or
// big-endian, in C or Fortran order, in .npy format versions 1.0, 2.0 and
// 3.0, and return row-major float32 (the study saved its bfloat16 models
// as float32). Writers write little-endian float32 in C order with the
// same .npy header NumPy 1.24 writes, byte for byte.
//
// The keys must be exactly layer_1 … layer_L with L = num_layers of
// meta.json: a missing key, a key beyond L, a non-canonical key such as
// layer_0 or layer_01, a layer that is not a non-empty 2-D array, and
// layers with different N are errors. D may differ between layers.
// Values are not checked: NaN and Inf pass through to the caller.
//
// The .meta.json file is a JSON object with at least
//
//	{"model_id": str, "num_layers": int, "dtype": str,
//	 "max_length": int, "texts_count": int, "subset": str}
//
// where model_id must be non-empty and num_layers at least 1; dtype is the
// dtype the model ran in (for example "bfloat16"), not the file's. Other
// fields ("revision", "pooling", "tokens_per_text", …) are kept in
// Meta.Extra and written back unchanged. The .texts.json file is a JSON
// array of texts_count strings, the texts in row order.
//
// # Reading
//
// Discover finds every set under ROOT; Open opens one. Both read meta.json
// and the .npy headers only. Set.Layer then reads one layer at a time, so a
// set of 20000 texts × 2048 dimensions × 200 layers needs the memory of
// one layer (164 MB), not of the set. Corrupt or truncated files give
// errors naming the file and key; the CRC-32 of npz entries is verified.
//
// # Writing
//
// Write writes a whole set; Create returns a Writer that takes one layer at
// a time. Nothing appears under a final name half-written: data go to
// hidden temporary files in the same folder (names starting with '.',
// which readers skip), which are fsynced and renamed into place. Commit
// writes .texts.json, then .meta.json, and renames the layers into place
// last, so that a set Discover sees is complete. WriteJSON writes any other
// JSON result (metrics, heatmaps) the same atomic way.
//
// The package reads .npy itself rather than through
// codeberg.org/sbinet/npyio, whose v0.14.0 header parser panics on
// malformed headers, converts float16 subnormals wrongly and reads element
// by element; the tests use npyio as an independent reader of the files
// this package writes.
package artifacts
