package chserver

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Pdeathsig fires when the *thread* that forked the child exits, not the
// process. The Go runtime may retire threads (a goroutine that exits while
// locked to its thread takes the thread with it), so every child is forked
// from one goroutine locked to its own thread for the life of the binary.
var (
	spawnOnce sync.Once
	spawnReqs chan spawnReq
)

type spawnReq struct {
	cmd *exec.Cmd
	res chan error
}

func spawner() {
	runtime.LockOSThread() // never unlocked: the thread lives until exit
	for r := range spawnReqs {
		r.res <- r.cmd.Start()
	}
}

// startChild starts cmd from the spawner thread. cmd's Stdout/Stderr must be
// *os.File (or nil) so that Start creates no copying goroutines.
func startChild(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReqs = make(chan spawnReq)
		go spawner()
	})
	cmd.SysProcAttr = childAttr()
	res := make(chan error, 1)
	spawnReqs <- spawnReq{cmd: cmd, res: res}
	return <-res
}

// proc is one running child process with its exit watched.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and been reaped
	err  error         // Wait's result, valid once done is closed
}

func launch(cmd *exec.Cmd) (*proc, error) {
	if err := startChild(cmd); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the child's whole process group (it is its leader).
func (p *proc) signal(sig syscall.Signal) {
	if p.exited() {
		return
	}
	pid := p.cmd.Process.Pid
	if err := syscall.Kill(-pid, sig); err != nil {
		_ = syscall.Kill(pid, sig)
	}
}

// stop sends SIGTERM, waits up to grace, then SIGKILLs. It returns whether
// the process needed SIGKILL. It always returns with the process reaped.
func (p *proc) stop(grace time.Duration) (killed bool) {
	if p.exited() {
		return false
	}
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return false
	case <-time.After(grace):
	}
	p.kill()
	return true
}

// kill SIGKILLs the process group and waits for the reap.
func (p *proc) kill() {
	p.signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		// A process in uninterruptible sleep: nothing more we can do.
	}
	// The leader is gone; make sure no member of its group survives.
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}

// tailFile returns the last n lines of a file ("" if it cannot be read).
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil || n <= 0 {
		return ""
	}
	b = bytes.TrimRight(b, "\n")
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

func fileContains(path, s string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.Contains(string(b), s)
}

var errAddrInUse = errors.New("address already in use")

func exitDescription(p *proc) string {
	if p.err == nil {
		return "salió con código 0"
	}
	return fmt.Sprintf("terminó: %v", p.err)
}
