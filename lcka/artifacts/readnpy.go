package artifacts

import (
	"bufio"
	"fmt"
	"os"
)

// ReadNPY reads one 2-D .npy file (float16, float32 or float64) as float32.
func ReadNPY(path string) (Matrix, error) {
	f, err := os.Open(path)
	if err != nil {
		return Matrix{}, fmt.Errorf("artifacts: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Matrix{}, fmt.Errorf("artifacts: %w", err)
	}
	m, err := readMatrix(bufio.NewReaderSize(f, 1<<20), st.Size(), st.Size())
	if err != nil {
		return Matrix{}, fmt.Errorf("artifacts: %s: %w", path, err)
	}
	return m, nil
}
