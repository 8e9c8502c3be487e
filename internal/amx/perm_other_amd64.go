//go:build amd64 && !linux

package amx

import "errors"

// requestPermission: the permission request is implemented for Linux only.
func requestPermission() error {
	return errors.New("AMX permission request is implemented for Linux only")
}
