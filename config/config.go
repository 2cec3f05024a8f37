// Package config reads the observatory's one configuration file (YAML) and
// applies environment overrides. Secrets (the ClickHouse password, later the
// pseudonymization key and the admin token) never come from the file itself:
// only from the environment or from a file path the configuration names.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/observatorio-civico/observatorio/etl"
	"github.com/observatorio-civico/observatorio/operations"
	"github.com/observatorio-civico/observatorio/server"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// Config is the whole configuration.
type Config struct {
	HTTP      HTTP             `yaml:"http"`
	Warehouse warehouse.Config `yaml:"warehouse"`
	// ETL declares the jobs and their sources.
	ETL etl.Config `yaml:"etl"`
	// Backup schedules copies of the warehouse; Retention bounds the tables
	// that grow forever (see package operations and RELIABILITY.md).
	Backup    operations.BackupConfig    `yaml:"backup"`
	Retention operations.RetentionConfig `yaml:"retention"`
	// Demo marks a demonstration instance: pages say that the figures are
	// synthetic, and the ETL may run with a generated pseudonymization key.
	Demo bool `yaml:"demo"`
	// Dir is the folder of the configuration file: relative source paths
	// of ETL jobs are resolved against it (the warehouse's data directory
	// stays relative to the working directory).
	Dir string `yaml:"-"`
}

// HTTP configures the public server.
type HTTP struct {
	Addr string `yaml:"addr"`
	// PublicURL is the address citizens use (for links in feeds and
	// metadata); empty derives it from the request.
	PublicURL string `yaml:"public_url"`
	// EmbedFrameAncestors are the sites allowed to show dashboards in an
	// iframe (?embed=1), as CSP frame-ancestors sources
	// ("https://www.periodico.com"); empty allows any site.
	EmbedFrameAncestors []string `yaml:"embed_frame_ancestors"`
	// AdminToken is the admin API's bearer token: from
	// OBSERVATORIO_ADMIN_TOKEN or the file named by
	// OBSERVATORIO_ADMIN_TOKEN_FILE only, never from the YAML.
	AdminToken string `yaml:"-"`
	// TrustedProxies are the reverse proxies (IPs or CIDRs) whose
	// X-Forwarded-For names the client for the rate limits and the audit
	// log. Default: loopback, for a proxy on the same host.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// RateLimits are the per-client request limits by class of route
	// (server.DefaultRateLimits).
	RateLimits server.RateLimits `yaml:"rate_limits"`
	// HeavyQueries caps the public requests' concurrent warehouse queries;
	// Max 0 derives it from the warehouse's connections (embedded: one less
	// than the pool, the last one kept for the ETL and the probes; server:
	// half of max_open_conns), -1 removes the cap.
	HeavyQueries server.HeavyQueries `yaml:"heavy_queries"`
	// ShutdownGrace is how long downloads in flight and an ETL run in
	// progress get to finish after SIGTERM.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
}

// Default returns the configuration used when no file is given: embedded
// engine under ./var/warehouse, HTTP on :8080.
func Default() Config {
	return Config{
		HTTP: HTTP{
			Addr:           ":8080",
			TrustedProxies: []string{"127.0.0.1", "::1"},
			RateLimits:     server.DefaultRateLimits(),
			HeavyQueries:   server.HeavyQueries{Wait: server.DefaultHeavyQueries().Wait},
			ShutdownGrace:  server.DefaultShutdownGrace,
		},
		Warehouse: warehouse.Config{
			Database: "observatorio",
			Embedded: warehouse.EmbeddedConfig{Path: "var/warehouse", Pool: 4},
			Server:   warehouse.ServerConfig{DialTimeout: 5 * time.Second, QueryTimeout: 5 * time.Minute},
		},
		Backup:    operations.DefaultBackup(),
		Retention: operations.DefaultRetention(),
	}
}

// Env lists the environment variables Load reads, with what they set.
var Env = [][2]string{
	{"OBSERVATORIO_CONFIG", "ruta del archivo de configuración YAML"},
	{"OBSERVATORIO_HTTP_ADDR", "http.addr (dirección de escucha, p. ej. :8080)"},
	{"OBSERVATORIO_TRUSTED_PROXIES", "http.trusted_proxies, separados por comas (proxies cuyo X-Forwarded-For se cree)"},
	{"OBSERVATORIO_SHUTDOWN_GRACE", "http.shutdown_grace (p. ej. 20s: plazo de las descargas y del ETL en curso al apagar)"},
	{"OBSERVATORIO_EMBED_FRAME_ANCESTORS", "http.embed_frame_ancestors, separados por comas (sitios que pueden insertar tableros)"},
	{"OBSERVATORIO_DATA_DIR", "warehouse.embedded.path (directorio de datos de chDB)"},
	{"OBSERVATORIO_CHDB_LIB", "warehouse.embedded.library (ruta de libchdb.so)"},
	{"OBSERVATORIO_DATABASE", "warehouse.database"},
	{"OBSERVATORIO_CLICKHOUSE_ADDR", "warehouse.server.addrs, separadas por comas (activa el modo servidor)"},
	{"OBSERVATORIO_CLICKHOUSE_HTTP_ADDR", "warehouse.server.http_addrs, separadas por comas"},
	{"OBSERVATORIO_CLICKHOUSE_USER", "warehouse.server.user"},
	{"OBSERVATORIO_CLICKHOUSE_PASSWORD", "contraseña de ClickHouse (solo por entorno)"},
	{"OBSERVATORIO_CLICKHOUSE_PASSWORD_FILE", "warehouse.server.password_file"},
	{"OBSERVATORIO_CLICKHOUSE_TLS", "warehouse.server.tls (1/true)"},
	{"OBSERVATORIO_CLUSTER", "warehouse.cluster (nombre del clúster en remote_servers)"},
	{"OBSERVATORIO_ADMIN_TOKEN", "token de la API de administración (o OBSERVATORIO_ADMIN_TOKEN_FILE); sin él, /api/admin responde 401"},
	{"OBSERVATORIO_ADMIN_TOKEN_FILE", "archivo con el token de la API de administración"},
}

// Load reads the file at path (optional: "" uses the defaults alone), then
// applies the environment. Unknown keys in the file are errors, so a typo
// does not silently fall back to a default.
func Load(path string) (Config, error) {
	cfg := Default()
	if path == "" {
		path = os.Getenv("OBSERVATORIO_CONFIG")
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("configuración: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		// An empty file decodes to io.EOF: the defaults stand.
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("configuración %s: %v", path, err)
		}
		abs, err := filepath.Abs(filepath.Dir(path))
		if err != nil {
			return cfg, err
		}
		cfg.Dir = abs
		cfg.ETL.ResolvePaths(abs)
		if err := cfg.ETL.Validate(); err != nil {
			return cfg, fmt.Errorf("configuración %s: %v", path, err)
		}
		for _, v := range []interface{ Validate() error }{cfg.Backup, cfg.Retention} {
			if err := v.Validate(); err != nil {
				return cfg, fmt.Errorf("configuración %s: %v", path, err)
			}
		}
	}
	if err := applyEnv(&cfg, os.LookupEnv); err != nil {
		return cfg, err
	}
	if err := cfg.HTTP.check(cfg.Warehouse); err != nil {
		if path != "" {
			return cfg, fmt.Errorf("configuración %s: %v", path, err)
		}
		return cfg, fmt.Errorf("configuración: %v", err)
	}
	return cfg, resolveSecrets(&cfg)
}

func applyEnv(cfg *Config, lookup func(string) (string, bool)) error {
	str := func(name string, dst *string) {
		if v, ok := lookup(name); ok {
			*dst = v
		}
	}
	list := func(name string, dst *[]string) {
		if v, ok := lookup(name); ok {
			*dst = nil
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					*dst = append(*dst, p)
				}
			}
		}
	}
	str("OBSERVATORIO_HTTP_ADDR", &cfg.HTTP.Addr)
	list("OBSERVATORIO_TRUSTED_PROXIES", &cfg.HTTP.TrustedProxies)
	if v, ok := lookup("OBSERVATORIO_SHUTDOWN_GRACE"); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("OBSERVATORIO_SHUTDOWN_GRACE=%q: use una duración como 20s", v)
		}
		cfg.HTTP.ShutdownGrace = d
	}
	list("OBSERVATORIO_EMBED_FRAME_ANCESTORS", &cfg.HTTP.EmbedFrameAncestors)
	str("OBSERVATORIO_DATA_DIR", &cfg.Warehouse.Embedded.Path)
	str("OBSERVATORIO_CHDB_LIB", &cfg.Warehouse.Embedded.Library)
	str("OBSERVATORIO_DATABASE", &cfg.Warehouse.Database)
	list("OBSERVATORIO_CLICKHOUSE_ADDR", &cfg.Warehouse.Server.Addrs)
	list("OBSERVATORIO_CLICKHOUSE_HTTP_ADDR", &cfg.Warehouse.Server.HTTPAddrs)
	str("OBSERVATORIO_CLICKHOUSE_USER", &cfg.Warehouse.Server.User)
	str("OBSERVATORIO_CLICKHOUSE_PASSWORD", &cfg.Warehouse.Server.Password)
	str("OBSERVATORIO_CLICKHOUSE_PASSWORD_FILE", &cfg.Warehouse.Server.PasswordFile)
	str("OBSERVATORIO_CLUSTER", &cfg.Warehouse.Cluster)
	if v, ok := lookup("OBSERVATORIO_CLICKHOUSE_TLS"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("OBSERVATORIO_CLICKHOUSE_TLS=%q: use true o false", v)
		}
		cfg.Warehouse.Server.TLS = b
	}
	return nil
}

func resolveSecrets(cfg *Config) error {
	cfg.HTTP.AdminToken = strings.TrimSpace(os.Getenv("OBSERVATORIO_ADMIN_TOKEN"))
	if p := os.Getenv("OBSERVATORIO_ADMIN_TOKEN_FILE"); cfg.HTTP.AdminToken == "" && p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("no se pudo leer el token de administración: %w", err)
		}
		cfg.HTTP.AdminToken = strings.TrimSpace(string(b))
	}
	sc := &cfg.Warehouse.Server
	if sc.Password == "" && sc.PasswordFile != "" {
		b, err := os.ReadFile(sc.PasswordFile)
		if err != nil {
			return fmt.Errorf("no se pudo leer la contraseña de ClickHouse: %w", err)
		}
		sc.Password = strings.TrimRight(string(b), "\r\n")
	}
	return nil
}

// check validates the HTTP limits and derives the heavy-query cap from the
// warehouse when it is not set.
func (h *HTTP) check(w warehouse.Config) error {
	for _, p := range h.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			return fmt.Errorf("http.trusted_proxies: %q no es una dirección IP ni un bloque CIDR", p)
		}
	}
	if err := h.RateLimits.Validate(); err != nil {
		return err
	}
	if err := h.HeavyQueries.Validate(); err != nil {
		return err
	}
	if h.ShutdownGrace <= 0 {
		return fmt.Errorf("http.shutdown_grace debe ser una duración positiva, p. ej. 20s")
	}
	if h.HeavyQueries.Max == 0 {
		n := w.Connections()
		if len(w.Server.Addrs) > 0 {
			h.HeavyQueries.Max = max(1, n/2)
		} else {
			h.HeavyQueries.Max = max(1, n-1)
		}
	}
	return nil
}
