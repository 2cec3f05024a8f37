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
