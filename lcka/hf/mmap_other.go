//go:build !unix

package hf

// mapFile reads the whole file: this platform has no memory mapping here.
func mapFile(path string) ([]byte, func() error, error) {
	data, err := readWhole(path)
	return data, nil, err
}

// dropPages does nothing: the bytes were read, not mapped.
func dropPages([]byte) {}
