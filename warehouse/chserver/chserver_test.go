package chserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/shopspring/decimal"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestAvailable(t *testing.T) {
	bin, ok := Available()
	t.Logf("clickhouse-server: %q %v", bin, ok)
	java, cp, zok := ZooKeeperAvailable()
	t.Logf("zookeeper: java=%q classpath=%q %v", java, cp, zok)

	t.Setenv(EnvServer, "/nonexistent/clickhouse-server")
	if p, ok := Available(); ok || p != "/nonexistent/clickhouse-server" {
		t.Fatalf("Available() con %s inexistente = %q, %v", EnvServer, p, ok)
	}
}

func TestServerArgs(t *testing.T) {
	if got := strings.Join(serverArgs("/usr/bin/clickhouse", "/x/config.xml"), " "); got != "/usr/bin/clickhouse server --config-file=/x/config.xml" {
		t.Errorf("multi-call: %s", got)
	}
	if got := strings.Join(serverArgs("/usr/sbin/clickhouse-server", "/x/config.xml"), " "); got != "/usr/sbin/clickhouse-server --config-file=/x/config.xml" {
		t.Errorf("clickhouse-server: %s", got)
	}
}

func TestFreePortsDistinct(t *testing.T) {
	seen := map[int]bool{}
	for i := 0; i < 20; i++ {
		ps, err := freePorts(3)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if seen[p] || p < portMin || p >= ephemeralLow() {
				t.Fatalf("puerto %d repetido o fuera de rango", p)
			}
			seen[p] = true
		}
	}
}

// TestServer exercises one server end to end with clickhouse-go over the
// native protocol: auth, DDL, a 1,000-row batch, Decimal/Date/DateTime
// round-trips, errors, Restart and Kill+Restart.
func TestServer(t *testing.T) {
	t0 := time.Now()
	s := Start(t, Options{})
	t.Logf("servidor %s en %s (http %s) listo en %v", s.Version(), s.Addr(), s.HTTPAddr(), time.Since(t0))
	ctx := ctxT(t)
	conn := s.Conn(t)

	// Auth: the configured user works, a wrong password is refused.
	var user string
	// (18.16 has no currentUser(): ask system.processes about this very query.)
	if err := conn.QueryRow(ctx, "SELECT user FROM system.processes WHERE query LIKE '%marca-usuario-chserver%' LIMIT 1").Scan(&user); err != nil {
		t.Fatal(err)
	}
	if user != s.User() {
		t.Fatalf("currentUser() = %q, quería %q", user, s.User())
	}
	bad := s.ClientOptions()
	bad.Auth.Password = "incorrecta"
	badConn, err := clickhouse.Open(bad)
	if err != nil {
		t.Fatal(err)
	}
	defer badConn.Close()
	err = badConn.Ping(ctx)
	var exc *clickhouse.Exception
	if !errors.As(err, &exc) || !strings.Contains(strings.ToLower(exc.Message), "password") {
		t.Fatalf("contraseña incorrecta: quería una excepción de ClickHouse que hable de la contraseña, llegó %v", err)
	}
	t.Logf("contraseña incorrecta: código %d: %s", exc.Code, exc.Message)

	// A bad query carries ClickHouse's own message.
	err = conn.Exec(ctx, "SELECT funcion_que_no_existe(1)")
	if !errors.As(err, &exc) || exc.Code != 46 || !strings.Contains(exc.Message, "funcion_que_no_existe") {
		t.Fatalf("consulta errónea: quería excepción 46 (Unknown function), llegó %#v", err)
	}
	err = conn.Exec(ctx, "SELEC 1")
	if !errors.As(err, &exc) || exc.Code != 62 || !strings.Contains(exc.Message, "Syntax error") {
		t.Fatalf("error de sintaxis: quería excepción 62, llegó %v", err)
	}

	// A MergeTree table with the new-style syntax, Decimal, Date and DateTime.
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS obs",
		`CREATE TABLE IF NOT EXISTS obs.pagos (
			id UInt64,
			entidad String,
			valor Decimal(18, 2),
			fecha Date,
			registrado DateTime
		) ENGINE = MergeTree() PARTITION BY toYYYYMM(fecha) ORDER BY (entidad, id)`,
	} {
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO obs.pagos (id, entidad, valor, fecha, registrado)")
	if err != nil {
		t.Fatal(err)
	}
	want := decimal.Zero
	for i := 0; i < 1000; i++ {
		v := decimal.New(int64(i)*100+int64(i%100), -2) // i + (i%100)/100
		want = want.Add(v)
		if err := batch.Append(uint64(i), fmt.Sprintf("entidad-%02d", i%7), v,
			base.AddDate(0, 0, i%400), base.Add(time.Duration(i)*time.Hour+17*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
	checkPagos := func(t *testing.T, conn clickhouse.Conn, n uint64) {
		t.Helper()
		var count uint64
		var total decimal.Decimal
		if err := conn.QueryRow(ctx, "SELECT count(), sum(valor) FROM obs.pagos WHERE id < 1000").Scan(&count, &total); err != nil {
			t.Fatal(err)
		}
		if count != n || !total.Equal(want) {
			t.Fatalf("count=%d sum=%s; quería %d y %s", count, total, n, want)
		}
		var (
			ent   string
			valor decimal.Decimal
			fecha time.Time
			reg   time.Time
		)
		if err := conn.QueryRow(ctx, "SELECT entidad, valor, fecha, registrado FROM obs.pagos WHERE id = 437").Scan(&ent, &valor, &fecha, &reg); err != nil {
			t.Fatal(err)
		}
		if ent != "entidad-03" || valor.String() != "437.37" ||
			!fecha.Equal(base.AddDate(0, 0, 37)) || !reg.Equal(base.Add(437*time.Hour+17*time.Second)) {
			t.Fatalf("fila 437: %q %s %v %v", ent, valor, fecha, reg)
		}
		// Values as the server formats them (text), independent of the driver.
		out, err := s.HTTPQuery("SELECT valor, fecha, registrado, toTypeName(valor) FROM obs.pagos WHERE id = 437 FORMAT TabSeparated", nil)
		if err != nil {
			t.Fatal(err)
		}
		if out != "437.37\t2024-02-07\t2024-01-19 05:00:17\tDecimal(18, 2)\n" {
			t.Fatalf("fila 437 por HTTP: %q", out)
		}
	}
	checkPagos(t, conn, 1000)

	// Rows read back one by one.
	rows, err := conn.Query(ctx, "SELECT id, valor FROM obs.pagos ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var id uint64
		var v decimal.Decimal
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		if id != uint64(n) || !v.Equal(decimal.New(int64(n)*100+int64(n%100), -2)) {
			t.Fatalf("fila %d: id=%d valor=%s", n, id, v)
		}
		n++
	}
	if err := rows.Err(); err != nil || n != 1000 {
		t.Fatalf("leídas %d filas, err=%v", n, err)
	}
	rows.Close()

	// Restart (SIGTERM, same data dir and ports) keeps the data.
	pid := s.Pid()
	t0 = time.Now()
	s.Restart(t)
	t.Logf("Restart en %v", time.Since(t0))
	if alive(pid) {
		t.Fatalf("el proceso anterior %d sigue vivo tras Restart", pid)
	}
	conn2 := s.Conn(t)
	checkPagos(t, conn2, 1000)

	// Kill (SIGKILL) then Restart: committed inserts survive the crash.
	// (Not Exec("INSERT ... VALUES (...)"): over the native protocol 18.16
	// waits for data blocks that clickhouse-go's Exec never sends; see COMPAT.md.)
	if err := conn2.Exec(ctx, "INSERT INTO obs.pagos (id, entidad, valor, fecha, registrado) SELECT 5000, 'tras-kill', toDecimal64('1.50', 2), toDate('2024-06-01'), toDateTime('2024-06-01 10:00:00')"); err != nil {
		t.Fatal(err)
	}
	pid = s.Pid()
	s.Kill()
	if s.Running() || alive(pid) {
		t.Fatal("Kill no mató el servidor")
	}
	if err := conn2.Ping(ctx); err == nil {
		t.Fatal("Ping a un servidor muerto no falló")
	}
	t0 = time.Now()
	s.Restart(t)
	t.Logf("Restart tras Kill en %v", time.Since(t0))
	conn3 := s.Conn(t)
	checkPagos(t, conn3, 1000)
	var ent string
	if err := conn3.QueryRow(ctx, "SELECT entidad FROM obs.pagos WHERE id = 5000").Scan(&ent); err != nil || ent != "tras-kill" {
		t.Fatalf("fila insertada antes de Kill: %q %v", ent, err)
	}

	pid = s.Pid()
	t0 = time.Now()
	s.Stop()
	t.Logf("Stop en %v", time.Since(t0))
	if s.Running() || alive(pid) {
		t.Fatal("Stop dejó el proceso vivo")
	}
	s.Stop() // idempotent
}

// TestStartFailureShowsLog: a server that cannot start fails with its log in
// the message (checked through a fake testing.TB).
func TestStartFailureShowsLog(t *testing.T) {
	if _, ok := Available(); !ok {
		t.Skip(SkipNoServer)
	}
	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(ft, Options{ExtraConfig: []string{"<path>/proc/no-se-puede/</path>"}, StartupTimeout: 20 * time.Second})
	}()
	<-done
	ft.runCleanups()
	if !ft.failed || !strings.Contains(ft.msg, "no arrancó") || !strings.Contains(ft.msg, "====") {
		t.Fatalf("quería un fallo con el registro del servidor; llegó failed=%v:\n%s", ft.failed, ft.msg)
	}
	t.Logf("mensaje de fallo (recortado):\n%.1500s", ft.msg)
}

// fakeTB records a Fatal instead of failing the real test.
type fakeTB struct {
	testing.TB
	failed   bool
	msg      string
	cleanups []func()
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Fatal(args ...any) { f.failed = true; f.msg = fmt.Sprint(args...); runtime.Goexit() }
func (f *fakeTB) Fatalf(s string, a ...any) {
	f.failed = true
	f.msg = fmt.Sprintf(s, a...)
	runtime.Goexit()
}
func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

const helperEnv = "CHSERVER_TEST_HELPER_DIE"

// TestNoOrphanWhenBinaryDies runs this test binary again as a helper that
// starts a server and dies at once without running any cleanup (as a test
// binary killed by -timeout does); the server must die with it.
func TestNoOrphanWhenBinaryDies(t *testing.T) {
	if os.Getenv(helperEnv) == "1" {
		s := Start(t, Options{})
		fmt.Printf("PID=%d\n", s.Pid())
		os.Stdout.Sync()
		os.Exit(3) // no cleanups: only Pdeathsig stands between us and an orphan
	}
	if _, ok := Available(); !ok {
		t.Skip(SkipNoServer)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoOrphanWhenBinaryDies$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "TMPDIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := 0
	sc := bufio.NewScanner(out)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if v, ok := strings.CutPrefix(sc.Text(), "PID="); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	_ = cmd.Wait()
	if pid == 0 {
		t.Fatalf("el proceso auxiliar no informó el PID del servidor:\n%s", strings.Join(lines, "\n"))
	}
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("el servidor %d sobrevivió a su proceso padre", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Wait until it is reaped too, so that TempDir's removal does not race it.
	for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAddrInUseDetected: a server whose port is taken is recognised as such
// (Start then retries on other ports).
func TestAddrInUseDetected(t *testing.T) {
	a := Start(t, Options{})
	bin, _ := Available()
	b, err := newServer(bin, Options{Name: "intruso", StartupTimeout: 20 * time.Second}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	ps, err := freePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	b.tcpPort, b.httpPort, b.interPort = a.TCPPort(), ps[0], ps[1]
	err = b.start()
	if !errors.Is(err, errAddrInUse) {
		t.Fatalf("quería errAddrInUse, llegó %v\n%s", err, b.LogTail(20))
	}
	if !a.Running() {
		t.Fatal("el primer servidor murió")
	}
}

const portHelperEnv = "CHSERVER_TEST_HELPER_PORTS"

// TestPortsReservedAcrossProcesses: another test binary cannot reserve the
// ports this one holds (the case of `go test -p 2` with two packages that
// start servers).
func TestPortsReservedAcrossProcesses(t *testing.T) {
	if v := os.Getenv(portHelperEnv); v != "" {
		for _, f := range strings.Split(v, ",") {
			p, _ := strconv.Atoi(f)
			fmt.Printf("%d=%v\n", p, reserve(p))
		}
		os.Exit(0)
	}
	ps, err := freePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	var probe []string
	for _, p := range ps {
		probe = append(probe, strconv.Itoa(p))
	}
	other := portMin + 1
	for portUsed[other] {
		other++
	}
	probe = append(probe, strconv.Itoa(other))
	cmd := exec.Command(os.Args[0], "-test.run=^TestPortsReservedAcrossProcesses$")
	cmd.Env = append(os.Environ(), portHelperEnv+"="+strings.Join(probe, ","))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	got := string(out)
	for _, p := range ps {
		if !strings.Contains(got, fmt.Sprintf("%d=false", p)) {
			t.Errorf("otro proceso pudo reservar el puerto %d:\n%s", p, got)
		}
	}
	if !strings.Contains(got, fmt.Sprintf("%d=true", other)) && !strings.Contains(got, fmt.Sprintf("%d=false", other)) {
		t.Errorf("respuesta inesperada del proceso auxiliar:\n%s", got)
	}
}
