package artifacts

import "fmt"

// Matrix is a dense row-major float32 matrix: element (i, j) is
// Data[i*Cols+j]. In an activation set, row i holds the hidden state of
// text i and Cols is the model's hidden size.
type Matrix struct {
	Rows, Cols int
	Data       []float32
}

// Row returns row i of m, sharing m's storage.
func (m Matrix) Row(i int) []float32 {
	return m.Data[i*m.Cols : (i+1)*m.Cols]
}

// check reports whether m is a non-empty matrix whose Data has Rows*Cols
// elements.
func (m Matrix) check() error {
	if m.Rows <= 0 || m.Cols <= 0 {
		return fmt.Errorf("matrix of %d×%d is empty or negative", m.Rows, m.Cols)
	}
	if m.Rows > len(m.Data)/m.Cols || len(m.Data) != m.Rows*m.Cols {
		return fmt.Errorf("matrix of %d×%d has %d elements", m.Rows, m.Cols, len(m.Data))
	}
	return nil
}
