//go:build unix

package hf

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// mapFile maps a file read-only into memory. It falls back to reading the
// file when mapping is not possible (empty file, special files).
func mapFile(path string) ([]byte, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := st.Size()
	if size <= 0 || !st.Mode().IsRegular() || int64(int(size)) != size {
		data, err := readWhole(path)
		return data, nil, err
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		data, rerr := readWhole(path)
		if rerr != nil {
			return nil, nil, fmt.Errorf("mmap %s: %v; read: %v", path, err, rerr)
		}
		return data, nil, nil
	}
	return data, func() error { return syscall.Munmap(data) }, nil
}

// dropPages tells the kernel that the mapped bytes b are not needed for
// now: their pages leave the process's resident set (they stay in the page
// cache and are read again if touched). Only whole pages inside b are
// dropped.
func dropPages(b []byte) {
	page := uintptr(syscall.Getpagesize())
	if len(b) == 0 {
		return
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	first := (start + page - 1) &^ (page - 1)
	last := (start + uintptr(len(b))) &^ (page - 1)
	if last <= first {
		return
	}
	_ = syscall.Madvise(b[first-start:last-start], syscall.MADV_DONTNEED)
}
