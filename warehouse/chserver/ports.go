package chserver

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Ports are drawn at random below the kernel's ephemeral range, so that no
// outgoing connection (of the tests, of ClickHouse between shards, of the
// ZooKeeper clients) can be holding one of them by chance. Each port handed
// out is reserved for the life of the test binary twice over: in this process
// (a map) and across processes (a POSIX record lock on byte number <port> of
// one shared lock file, released by the kernel when the binary exits), so
// that the test binaries `go test -p N` runs side by side never pick the same
// port. A port stays reserved after its server stops, so that Restart can
// reuse it.
var (
	portMu   sync.Mutex
	portUsed = map[int]bool{}
	lockOnce sync.Once
	lockFile *os.File // kept open for the life of the binary: closing it would drop every lock
)

const portMin = 10000

// LockFile is the file whose bytes the harness locks to reserve ports.
var LockFile = filepath.Join(lockBase(), "observatorio-chserver-ports.lock")

func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= portMin+1000 {
		return 32768
	}
	return n
}

func openLockFile() {
	f, err := os.OpenFile(LockFile, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return // no cross-process reservation; the bind check still applies
	}
	_ = f.Chmod(0o666) // so that other users' test binaries can lock it too
	lockFile = f
}

// reserve takes the cross-process reservation of port p.
func reserve(p int) bool {
	lockOnce.Do(openLockFile)
	if lockFile == nil {
		return true
	}
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: int64(p), Len: 1}
	return syscall.FcntlFlock(lockFile.Fd(), syscall.F_SETLK, &lk) == nil
}

// release drops the reservation of a port found to be in use.
func release(p int) {
	if lockFile == nil {
		return
	}
	lk := syscall.Flock_t{Type: syscall.F_UNLCK, Whence: 0, Start: int64(p), Len: 1}
	_ = syscall.FcntlFlock(lockFile.Fd(), syscall.F_SETLK, &lk)
}

// freePorts returns n distinct loopback TCP ports that are free now and
// reserved for this process.
func freePorts(n int) ([]int, error) {
	portMu.Lock()
	defer portMu.Unlock()
	hi := ephemeralLow()
	var out []int
	for tries := 0; len(out) < n; tries++ {
		if tries > 5000 {
			return nil, fmt.Errorf("no se encontraron %d puertos libres en %d-%d", n, portMin, hi)
		}
		p := portMin + rand.IntN(hi-portMin)
		if portUsed[p] || !reserve(p) {
			continue
		}
		if !canListen(p) {
			release(p)
			continue
		}
		portUsed[p] = true
		out = append(out, p)
	}
	return out, nil
}

// lockBase is /tmp when usable (shared by every test binary whatever its
// TMPDIR), else os.TempDir().
func lockBase() string {
	if st, err := os.Stat("/tmp"); err == nil && st.IsDir() {
		return "/tmp"
	}
	return os.TempDir()
}

func canListen(p int) bool {
	l, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
