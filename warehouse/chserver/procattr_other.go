//go:build !linux && unix

package chserver

import "syscall"

// childAttr: without Pdeathsig outside Linux, only the process group is set;
// tb.Cleanup still stops the child in every normal and panicking exit.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
