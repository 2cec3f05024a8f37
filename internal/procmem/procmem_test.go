package procmem

import (
	"os"
	"testing"
)

func TestStatus(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("sin /proc:", err)
	}
	rss, err := Status(0, "VmRSS")
	if err != nil || rss <= 0 {
		t.Fatalf("VmRSS: %d, %v", rss, err)
	}
	hwm, err := Status(os.Getpid(), "VmHWM")
	if err != nil || hwm < rss {
		t.Fatalf("VmHWM %d < VmRSS %d (%v)", hwm, rss, err)
	}
	if _, err := Status(0, "NoExiste"); err == nil {
		t.Fatal("un campo que no existe no dio error")
	}
	if MiB(0, "NoExiste") != 0 || MiB(0, "VmRSS") <= 0 {
		t.Fatal("MiB")
	}
}
