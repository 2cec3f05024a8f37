//go:build linux

package chserver

import "syscall"

// childAttr puts the child in its own process group (so that a whole tree can
// be signalled and so that a Ctrl-C aimed at `go test` is not delivered to it
// twice) and asks the kernel to SIGKILL it when the thread that forked it
// dies. That thread is the spawner thread (see spawn.go), which lives as long
// as the test binary: a test that times out, panics past its cleanups or is
// killed never leaves a server behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
