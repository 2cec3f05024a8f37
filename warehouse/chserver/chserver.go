// Package chserver starts throwaway ClickHouse servers (and a ZooKeeper plus
// N ClickHouse shards for a cluster) as child processes of a test, for the
// tests of every package of the observatory that must talk to a real server.
//
// Each server runs from the installed clickhouse-server binary (Debian's
// package ships 18.16.1; a newer `clickhouse server` is used the same way if
// it is the one found), with its own generated config.xml and users.xml, a
// data directory under tb.TempDir(), loopback ports nobody else holds and its
// logs in files next to its data. It is stopped by tb.Cleanup; if the test
// binary dies without cleanups (a -timeout, a kill), the kernel kills the
// server too (Pdeathsig). Nothing of the system's own ClickHouse (its service,
// /etc/clickhouse-server, /var/lib/clickhouse) is used.
//
// When no server binary is installed, Start and StartCluster skip the test
// with a message saying which package to install. See COMPAT.md for what
// ClickHouse 18.16 accepts.
package chserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// EnvServer names an environment variable that, when set, is the path of the
// ClickHouse server binary to use (a clickhouse-server, or a multi-call
// `clickhouse` binary, which is then run as `clickhouse server`).
const EnvServer = "OBSERVATORIO_CLICKHOUSE_SERVER"

// SkipNoServer is the message of the tests skipped for want of a server.
const SkipNoServer = "clickhouse-server no está instalado (apt-get install clickhouse-server): se omiten las pruebas contra servidor"

// Defaults of Options.
const (
	DefaultUser           = "observatorio"
	DefaultPassword       = "clave-de-prueba"
	DefaultStartupTimeout = 60 * time.Second
	DefaultStopTimeout    = 15 * time.Second
)

// Options configures a server. The zero value is usable.
type Options struct {
	// User and Password of the only user the server has (default
	// DefaultUser / DefaultPassword). It may connect from loopback only.
	User     string
	Password string

	// Settings are put in the default settings profile of users.xml (for
	// example {"allow_experimental_low_cardinality_type": "1"}), over the
	// harness's own (max_memory_usage, max_threads=2, poll_interval=1). A
	// setting the server does not know stops it from starting ("Unknown
	// setting ..." in the failure message), so keep these to what the
	// server in use knows.
	Settings map[string]string

	// ExtraConfig are XML snippets merged into config.xml (written to
	// config.d/, where a key overrides the same key of the generated file).
	// A snippet is either a whole document with root <yandex> or elements
	// to put inside it, e.g. "<max_concurrent_queries>20</max_concurrent_queries>".
	ExtraConfig []string
	// ExtraUsersConfig are the same for users.xml (written to users.d/).
	ExtraUsersConfig []string

	// StartupTimeout bounds the wait for the server to answer (default
	// DefaultStartupTimeout); StopTimeout the wait after SIGTERM before
	// SIGKILL (default DefaultStopTimeout).
	StartupTimeout time.Duration
	StopTimeout    time.Duration

	// Timezone of the server (default "UTC").
	Timezone string
	// LogLevel of the server log (default "information"; "trace" and
	// "debug" for digging, "warning" for less).
	LogLevel string
	// MaxServerMemory in bytes (default 1 GiB). Servers older than 20.x
	// ignore it; every query is also limited by max_memory_usage (2 GB).
	MaxServerMemory int64

	// Name is a label used in messages and in the temporary directory
	// (default "clickhouse").
	Name string
}

func (o Options) withDefaults() Options {
	if o.User == "" {
		o.User = DefaultUser
	}
	if o.Password == "" {
		o.Password = DefaultPassword
	}
	if o.StartupTimeout <= 0 {
		o.StartupTimeout = DefaultStartupTimeout
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	if o.Timezone == "" {
		o.Timezone = "UTC"
	}
	if o.LogLevel == "" {
		o.LogLevel = "information"
	}
	if o.MaxServerMemory <= 0 {
		o.MaxServerMemory = 1 << 30
	}
	if o.Name == "" {
		o.Name = "clickhouse"
	}
	return o
}

var userRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Available reports the ClickHouse server binary that Start would run: the
// one named by $OBSERVATORIO_CLICKHOUSE_SERVER if set (false if it is not
// executable), else clickhouse-server in PATH, /usr/sbin or /usr/bin, else a
// multi-call clickhouse binary (run as `clickhouse server`).
func Available() (string, bool) {
	if p := os.Getenv(EnvServer); p != "" {
		return p, isExecutable(p)
	}
	if p, err := exec.LookPath("clickhouse-server"); err == nil {
		return p, true
	}
	for _, p := range []string{"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server", "/usr/local/bin/clickhouse-server"} {
		if isExecutable(p) {
			return p, true
		}
	}
	if p, err := exec.LookPath("clickhouse"); err == nil {
		return p, true
	}
	for _, p := range []string{"/usr/bin/clickhouse", "/usr/local/bin/clickhouse"} {
		if isExecutable(p) {
			return p, true
		}
	}
	return "", false
}

// serverOrSkip returns the server binary or skips the test, saying why.
func serverOrSkip(tb testing.TB) string {
	tb.Helper()
	bin, ok := Available()
	if !ok {
		if p := os.Getenv(EnvServer); p != "" {
			tb.Skipf("%s=%s no es un ejecutable: se omiten las pruebas contra servidor", EnvServer, p)
		}
		tb.Skip(SkipNoServer)
	}
	return bin
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// serverArgs is the command line that runs bin as a server with config.
func serverArgs(bin, config string) []string {
	args := []string{bin}
	if filepath.Base(bin) == "clickhouse" {
		args = append(args, "server")
	}
	return append(args, "--config-file="+config)
}

// Server is one running (or stopped) throwaway ClickHouse server.
type Server struct {
	opts Options
	bin  string

	dir        string // everything of this server lives here
	dataDir    string
	configPath string
	logPath    string
	errLogPath string
	outPath    string // stdout+stderr of the process

	tcpPort, httpPort, interPort int
	clusterXML                   string // remote_servers/zookeeper/macros, for clusters

	mu       sync.Mutex
	proc     *proc
	out      *os.File
	expected bool // the last exit was asked for (Stop, Kill)
}

func newServer(bin string, opts Options, dir string) (*Server, error) {
	opts = opts.withDefaults()
	if !userRE.MatchString(opts.User) {
		return nil, fmt.Errorf("chserver: nombre de usuario %q no válido (letras, dígitos y _)", opts.User)
	}
	s := &Server{
		opts:       opts,
		bin:        bin,
		dir:        dir,
		dataDir:    filepath.Join(dir, "data"),
		configPath: filepath.Join(dir, "config.xml"),
		logPath:    filepath.Join(dir, "clickhouse-server.log"),
		errLogPath: filepath.Join(dir, "clickhouse-server.err.log"),
		outPath:    filepath.Join(dir, "stdout.log"),
	}
	return s, nil
}

func (s *Server) allocPorts() error {
	p, err := freePorts(3)
	if err != nil {
		return err
	}
	s.tcpPort, s.httpPort, s.interPort = p[0], p[1], p[2]
	return nil
}

// Start starts a throwaway server for the test and returns it running and
// answering on its native and HTTP ports with the configured user. It skips
// the test when no server binary is installed and fails it (with the tail of
// the server log) when the server does not come up. The server is stopped
// when the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	bin := serverOrSkip(tb)
	opts = opts.withDefaults()
	s, err := newServer(bin, opts, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.stopAtCleanup(tb) })
	t0 := time.Now()
	if err := s.launch(); err != nil {
		tb.Fatalf("chserver: %s no arrancó: %v\n%s", s.opts.Name, err, s.LogTail(60))
	}
	tb.Logf("chserver: %s (%s) listo en %v: nativo %s, http %s, dir %s",
		s.opts.Name, s.bin, time.Since(t0).Round(time.Millisecond), s.Addr(), s.HTTPAddr(), s.dir)
	return s
}

// Launch starts a server outside a test, for scripts and measurement tools
// (scripts/loadtest.sh): as Start, but with its data and logs under dir,
// which is kept (a later Launch on the same dir finds the same data, on new
// ports), and stopped by Stop. The server still dies with the calling
// process (see spawn.go).
func Launch(opts Options, dir string) (*Server, error) {
	bin, ok := Available()
	if !ok {
		return nil, errors.New(SkipNoServer)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	s, err := newServer(bin, opts, abs)
	if err != nil {
		return nil, err
	}
	if err := s.launch(); err != nil {
		return nil, fmt.Errorf("chserver: %s no arrancó: %w\n%s", s.opts.Name, err, s.LogTail(60))
	}
	return s, nil
}

// launch starts the server on free ports, trying other ports when another
// process took the chosen ones in between.
func (s *Server) launch() error {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		if err = s.allocPorts(); err != nil {
			return err
		}
		if err = s.start(); err == nil || !errors.Is(err, errAddrInUse) {
			return err
		}
	}
	return err
}

// start writes the configuration, launches the process and waits for it to
// answer. On error the process is not left running.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil && !s.proc.exited() {
		return errors.New("ya está en marcha")
	}
	if err := s.writeConfig(); err != nil {
		return err
	}
	if s.out != nil {
		s.out.Close()
	}
	out, err := os.OpenFile(s.outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	s.out = out
	fmt.Fprintf(out, "---- %s: arranque en 127.0.0.1 tcp=%d http=%d interserver=%d\n",
		time.Now().Format(time.RFC3339Nano), s.tcpPort, s.httpPort, s.interPort)
	args := serverArgs(s.bin, s.configPath)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(),
		"CLICKHOUSE_WATCHDOG_ENABLE=0", // newer servers: no watchdog parent process
		"TZ=UTC",
	)
	p, err := launch(cmd)
	if err != nil {
		return fmt.Errorf("no se pudo ejecutar %s: %w", s.bin, err)
	}
	s.proc = p
	s.expected = false
	if err := s.waitReady(p, s.opts.StartupTimeout); err != nil {
		p.kill()
		s.expected = true // reported by the caller, with the log
		return err
	}
	return nil
}

func (s *Server) waitReady(p *proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: time.Second, Transport: noKeepAlive}
	pingURL := "http://" + s.HTTPAddr() + "/ping"
	for {
		if p.exited() {
			if fileContains(s.errLogPath, "Address already in use") || fileContains(s.outPath, "Address already in use") {
				return fmt.Errorf("el proceso %s: %w", exitDescription(p), errAddrInUse)
			}
			return fmt.Errorf("el proceso %s antes de aceptar conexiones", exitDescription(p))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no respondió en %v", timeout)
		}
		resp, err := hc.Get(pingURL)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				err = s.pingNative(deadline)
				if err == nil {
					return nil
				}
				var exc *clickhouse.Exception
				if errors.As(err, &exc) {
					return fmt.Errorf("el puerto nativo rechaza al usuario %s: %w", s.opts.User, err)
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) pingNative(deadline time.Time) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	opts := s.ClientOptions()
	opts.DialTimeout = 2 * time.Second
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Ping(ctx)
}

// stopAtCleanup stops the server at the end of the test, first noting in the
// test log a server that had died on its own (a crash shows up there with the
// tail of its log).
func (s *Server) stopAtCleanup(tb testing.TB) {
	s.mu.Lock()
	crashed := s.proc != nil && s.proc.exited() && !s.expected
	desc := ""
	if crashed {
		desc = exitDescription(s.proc)
	}
	s.mu.Unlock()
	if crashed {
		tb.Logf("chserver: %s terminó por su cuenta durante la prueba (%s)\n%s", s.opts.Name, desc, s.LogTail(40))
	}
	s.Stop()
}

// Stop stops the server: SIGTERM, then SIGKILL if it has not exited within
// Options.StopTimeout. It returns once the process is gone; stopping a
// stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		if !s.proc.exited() {
			s.expected = true
		}
		if s.proc.stop(s.opts.StopTimeout) && s.out != nil {
			fmt.Fprintf(s.out, "---- %s: no terminó con SIGTERM en %v; SIGKILL\n", time.Now().Format(time.RFC3339Nano), s.opts.StopTimeout)
		}
	}
	if s.out != nil {
		s.out.Close()
		s.out = nil
	}
}

// Kill kills the server with SIGKILL (a crash, for fault tests) and waits
// until it is gone. Restart brings it back on the same data.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		if !s.proc.exited() {
			s.expected = true
		}
		s.proc.kill()
	}
}

// Restart stops the server if it is running and starts it again on the same
// data directory, configuration and ports, waiting until it answers. It
// fails the test if it does not come back.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.Stop()
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		err = s.start()
		if err == nil || !errors.Is(err, errAddrInUse) {
			break
		}
		// A port of the stopped server may be lingering: try again shortly.
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("chserver: %s no volvió a arrancar: %v\n%s", s.opts.Name, err, s.LogTail(60))
	}
}

// Running reports whether the server process is alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && !s.proc.exited()
}

// Pid is the server's process id (0 if it was never started).
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// Addr is the host:port of the native protocol (clickhouse-go, clickhouse-client).
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.tcpPort)) }

// HTTPAddr is the host:port of the HTTP interface.
func (s *Server) HTTPAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.httpPort)) }

// InterserverAddr is the host:port of the replication (interserver HTTP) port.
func (s *Server) InterserverAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.interPort))
}

// TCPPort, HTTPPort are the ports of Addr and HTTPAddr.
func (s *Server) TCPPort() int  { return s.tcpPort }
func (s *Server) HTTPPort() int { return s.httpPort }

// User and Password are the credentials of the server's user.
func (s *Server) User() string     { return s.opts.User }
func (s *Server) Password() string { return s.opts.Password }

// Name is the server's label (Options.Name; "shard01"... in a cluster).
func (s *Server) Name() string { return s.opts.Name }

// Dir is the server's directory: config.xml, users.xml, config.d/, the logs
// and data/.
func (s *Server) Dir() string { return s.dir }

// DataDir is the server's data directory (<path> in config.xml).
func (s *Server) DataDir() string { return s.dataDir }

// LogPath is the server log (the error log is next to it, *.err.log).
func (s *Server) LogPath() string { return s.logPath }

// DSN is a clickhouse-go DSN for the native port with the server's user.
func (s *Server) DSN() string {
	u := url.URL{Scheme: "clickhouse", User: url.UserPassword(s.opts.User, s.opts.Password), Host: s.Addr(), Path: "/default"}
	q := url.Values{"dial_timeout": {"5s"}}
	u.RawQuery = q.Encode()
	return u.String()
}

// ClientOptions are clickhouse-go options for the native port with the
// server's user and database "default".
func (s *Server) ClientOptions() *clickhouse.Options {
	return &clickhouse.Options{
		Addr:        []string{s.Addr()},
		Auth:        clickhouse.Auth{Database: "default", Username: s.opts.User, Password: s.opts.Password},
		DialTimeout: 5 * time.Second,
	}
}

// Conn opens a native connection (closed when the test ends).
func (s *Server) Conn(tb testing.TB) driver.Conn {
	tb.Helper()
	conn, err := clickhouse.Open(s.ClientOptions())
	if err != nil {
		tb.Fatalf("chserver: abrir conexión a %s: %v", s.Addr(), err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

// DB opens a database/sql handle over the native protocol (closed when the
// test ends).
func (s *Server) DB(tb testing.TB) *sql.DB {
	tb.Helper()
	db := clickhouse.OpenDB(s.ClientOptions())
	tb.Cleanup(func() { db.Close() })
	return db
}

// noKeepAlive: an idle keep-alive connection would hold a stopping server
// for its keep_alive_timeout.
var noKeepAlive = &http.Transport{DisableKeepAlives: true, Proxy: nil}

// HTTPError is a query refused over HTTP: the status and ClickHouse's text.
type HTTPError struct {
	Status int
	Body   string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.Status, strings.TrimSpace(e.Body))
}

// HTTPQuery runs query over the HTTP interface as the server's user and
// returns the response body. params are added to the URL (settings such as
// "max_threads", "database", or query parameters as "param_name").
func (s *Server) HTTPQuery(query string, params url.Values) (string, error) {
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	q.Set("user", s.opts.User)
	q.Set("password", s.opts.Password)
	req, err := http.NewRequest(http.MethodPost, "http://"+s.HTTPAddr()+"/?"+q.Encode(), strings.NewReader(query))
	if err != nil {
		return "", err
	}
	hc := &http.Client{Timeout: 60 * time.Second, Transport: noKeepAlive}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(b), &HTTPError{Status: resp.StatusCode, Body: string(b)}
	}
	return string(b), nil
}

// Version is the server's version() (e.g. "18.16.1"), "" if it cannot be asked.
func (s *Server) Version() string {
	v, err := s.HTTPQuery("SELECT version()", nil)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(v)
}

// LogTail returns the last n lines of the server log, of its error log and of
// its standard output/error (where a server that cannot read its
// configuration says why), each under a heading.
func (s *Server) LogTail(n int) string {
	var b strings.Builder
	for _, f := range []struct{ title, path string }{
		{"registro", s.logPath},
		{"errores", s.errLogPath},
		{"stdout/stderr", s.outPath},
	} {
		t := tailFile(f.path, n)
		if t == "" {
			continue
		}
		fmt.Fprintf(&b, "==== %s %s (últimas %d líneas de %s) ====\n%s\n", s.opts.Name, f.title, n, f.path, t)
	}
	if b.Len() == 0 {
		return fmt.Sprintf("==== %s: sin registros en %s ====\n", s.opts.Name, s.dir)
	}
	return b.String()
}
