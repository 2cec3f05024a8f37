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
// (a map) and across processes (an flock on a file per port in the temporary
// directory, released by the kernel when the binary exits), so that the test
// binaries `go test -p N` runs side by side never pick the same port. A port
// stays reserved after its server stops, so that Restart can reuse it.
var (
	portMu   sync.Mutex
	portUsed = map[int]bool{}
	portLock []*os.File // kept open: closing would drop the flock
)

const portMin = 10000

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

// freePorts returns n distinct loopback TCP ports that are free now and
// reserved for this process.
func freePorts(n int) ([]int, error) {
	portMu.Lock()
	defer portMu.Unlock()
	hi := ephemeralLow()
	lockDir := filepath.Join(lockBase(), "observatorio-chserver-ports")
	if err := os.MkdirAll(lockDir, 0o777); err != nil {
		return nil, err
	}
	_ = os.Chmod(lockDir, 0o777|os.ModeSticky)
	var out []int
	for tries := 0; len(out) < n; tries++ {
		if tries > 2000 {
			return nil, fmt.Errorf("no se encontraron %d puertos libres en %d-%d", n, portMin, hi)
		}
		p := portMin + rand.IntN(hi-portMin)
		if portUsed[p] {
			continue
		}
		f, err := os.OpenFile(filepath.Join(lockDir, strconv.Itoa(p)+".lock"), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			continue
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		if !canListen(p) {
			f.Close() // drops the lock
			continue
		}
		portUsed[p] = true
		portLock = append(portLock, f)
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
