package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadFileAndEnv(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "o.yaml")
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("s3creta\n"), 0o600)
	os.WriteFile(f, []byte("http:\n  addr: \":9090\"\nwarehouse:\n  server:\n    addrs: [\"ch1:9000\", \"ch2:9000\"]\n    password_file: "+pw+"\n"), 0o600)
	t.Setenv("OBSERVATORIO_HTTP_ADDR", "127.0.0.1:8081")
	t.Setenv("OBSERVATORIO_CLICKHOUSE_TLS", "true")
	cfg, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Addr != "127.0.0.1:8081" {
		t.Errorf("env did not override the file: %q", cfg.HTTP.Addr)
	}
	if got := strings.Join(cfg.Warehouse.Server.Addrs, ","); got != "ch1:9000,ch2:9000" {
		t.Errorf("addrs %q", got)
	}
	if cfg.Warehouse.Server.Password != "s3creta" || !cfg.Warehouse.Server.TLS {
		t.Errorf("password %q tls %v", cfg.Warehouse.Server.Password, cfg.Warehouse.Server.TLS)
	}
	if cfg.Warehouse.Embedded.Path != "var/warehouse" {
		t.Errorf("default data dir lost: %q", cfg.Warehouse.Embedded.Path)
	}
}

func TestUnknownKeyIsAnError(t *testing.T) {
	f := filepath.Join(t.TempDir(), "o.yaml")
	os.WriteFile(f, []byte("warehouse:\n  embeded:\n    path: x\n"), 0o600)
	_, err := Load(f)
	if err == nil || !strings.Contains(err.Error(), "embeded") {
		t.Fatalf("typo accepted: %v", err)
	}
}

func TestPasswordIsNotReadFromTheFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "o.yaml")
	os.WriteFile(f, []byte("warehouse:\n  server:\n    password: plain\n"), 0o600)
	if _, err := Load(f); err == nil {
		t.Fatal("a password in the file was accepted")
	}
}

func TestEmptyFileKeepsDefaults(t *testing.T) {
	f := filepath.Join(t.TempDir(), "o.yaml")
	os.WriteFile(f, nil, 0o600)
	cfg, err := Load(f)
	if err != nil || cfg.HTTP.Addr != ":8080" {
		t.Fatalf("%v %q", err, cfg.HTTP.Addr)
	}
}

func TestLimitsKeys(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "o.yaml")
	// A partial class keeps the other defaults; a list replaces the default.
	os.WriteFile(f, []byte("http:\n  trusted_proxies: [\"10.0.0.0/8\"]\n  rate_limits:\n    downloads: {rate: 0.5}\n  shutdown_grace: 40s\n"), 0o600)
	cfg, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.HTTP
	def := Default().HTTP.RateLimits
	if h.RateLimits.Downloads.Rate != 0.5 || h.RateLimits.Downloads.Burst != def.Downloads.Burst || h.RateLimits.Pages != def.Pages {
		t.Errorf("rate limits %+v", h.RateLimits)
	}
	if strings.Join(h.TrustedProxies, ",") != "10.0.0.0/8" || h.ShutdownGrace.String() != "40s" {
		t.Errorf("proxies %v, grace %s", h.TrustedProxies, h.ShutdownGrace)
	}
	// The heavy-query cap follows the warehouse's connections.
	if h.HeavyQueries.Max != 3 || h.HeavyQueries.Wait.String() != "2s" {
		t.Errorf("embedded, pool 4: heavy queries %+v", h.HeavyQueries)
	}
	t.Setenv("OBSERVATORIO_CLICKHOUSE_ADDR", "ch:9000")
	t.Setenv("OBSERVATORIO_TRUSTED_PROXIES", "192.0.2.1, 2001:db8::/32")
	t.Setenv("OBSERVATORIO_SHUTDOWN_GRACE", "5s")
	cfg, err = Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.HeavyQueries.Max != 8 || strings.Join(cfg.HTTP.TrustedProxies, ",") != "192.0.2.1,2001:db8::/32" || cfg.HTTP.ShutdownGrace.String() != "5s" {
		t.Errorf("server engine: %+v", cfg.HTTP)
	}
	os.Unsetenv("OBSERVATORIO_TRUSTED_PROXIES") // restored by t.Setenv's cleanup
	os.Unsetenv("OBSERVATORIO_SHUTDOWN_GRACE")

	for _, c := range []struct{ yaml, want string }{
		{"http:\n  trusted_proxies: [\"proxy.local\"]\n", "proxy.local"},
		{"http:\n  rate_limits:\n    pages: {rate: -1}\n", "http.rate_limits.pages.rate"},
		{"http:\n  rate_limits:\n    data: {rate: 5, burst: 0}\n", "http.rate_limits.data.burst"},
		{"http:\n  heavy_queries: {wait: -1s}\n", "http.heavy_queries.wait"},
		{"http:\n  shutdown_grace: 0s\n", "http.shutdown_grace"},
		{"http:\n  rate_limits:\n    paginas: {rate: 1}\n", "paginas"},
	} {
		os.WriteFile(f, []byte(c.yaml), 0o600)
		if _, err := Load(f); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one naming %q", c.yaml, err, c.want)
		}
	}
}

func TestRetentionAndBackupSections(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "o.yaml")
	os.WriteFile(f, []byte("retention:\n  quarantine: 90d\n  admin_audit: 0\nbackup:\n  dir: /srv/copias\n  schedule: \"0 3 * * *\"\n"), 0o600)
	cfg, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Retention
	if r.Quarantine.String() != "90d" || r.AdminAudit != 0 || r.RunLog.String() != "730d" || r.Schedule != "30 4 * * *" {
		t.Errorf("retention %+v: the file's keys over the defaults", r)
	}
	if b := cfg.Backup; b.Dir != "/srv/copias" || b.Schedule != "0 3 * * *" || b.Keep != 7 || b.Compression != "zstd" {
		t.Errorf("backup %+v", b)
	}
	for body, want := range map[string]string{
		"retention:\n  quarantine: un año\n": "un año",
		"retention:\n  schedule: diario\n":   "retention.schedule",
		"backup:\n  compression: gzip\n":     "backup.compression",
	} {
		os.WriteFile(f, []byte(body), 0o600)
		if _, err := Load(f); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %q", body, err, want)
		}
	}
}
