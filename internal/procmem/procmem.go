// Package procmem reads a process's memory figures from Linux's
// /proc/PID/status (VmRSS, VmHWM, RssAnon, ...), for the benchmarks, the
// load test and the memory probes, which all report them.
package procmem

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Status is the field of /proc/PID/status in bytes (pid 0: this process),
// for the fields the kernel gives in kB.
func Status(pid int, field string) (int64, error) {
	path := "/proc/self/status"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			v := strings.Fields(rest) // "123456 kB"
			if len(v) == 2 && v[1] == "kB" {
				kb, err := strconv.ParseInt(v[0], 10, 64)
				return kb * 1024, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s sin %s en kB", path, field)
}

// MiB is Status in MiB, 0 when the field cannot be read (for reports).
func MiB(pid int, field string) float64 {
	b, err := Status(pid, field)
	if err != nil {
		return 0
	}
	return float64(b) / (1 << 20)
}
