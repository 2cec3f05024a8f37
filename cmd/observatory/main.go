// Command observatory is the observatory's one binary. This file only wires
// the packages together; each subcommand's work lives in its package.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/observatorio-civico/observatorio/analytics/gel"
	"github.com/observatorio-civico/observatorio/analytics/gel/geldemo"
	"github.com/observatorio-civico/observatorio/config"
	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/etl"
	"github.com/observatorio-civico/observatorio/etl/demo"
	"github.com/observatorio-civico/observatorio/liquidation"
	"github.com/observatorio-civico/observatorio/operations"
	"github.com/observatorio-civico/observatorio/server"
	"github.com/observatorio-civico/observatorio/warehouse"
)

const usage = `observatory: observatorio de transparencia tributaria municipal

Uso:
  observatory serve    [--config ARCHIVO] [--demo]     sirve el sitio (migra y siembra al arrancar)
  observatory migrate  [--config ARCHIVO] [--print]    aplica las migraciones del esquema
  observatory demo generate [--out CARPETA] [--scale X] escribe archivos fuente de demostración y su configuración
  observatory demo load [--config ARCHIVO] [--scale X] carga los datos sintéticos directamente (sin ETL)
  observatory etl run  [--config ARCHIVO] [TRABAJO...] ejecuta trabajos ETL una vez (todos si no se nombran)
  observatory etl status [--config ARCHIVO] [-n N]     últimas ejecuciones y próximas programadas
  observatory backup   [--config ARCHIVO] --out CARPETA copia de seguridad lógica del almacén (ver RELIABILITY.md)
  observatory backup verify --from CARPETA             comprueba una copia (tamaños, SHA-256, filas) sin abrir el almacén
  observatory restore  [--config ARCHIVO] --from CARPETA [--force]
                                                      restaura una copia en un almacén vacío (--force: lo vacía antes)
  observatory retention run [--config ARCHIVO] [--dry-run] aplica la política de retención (cuarentena, ejecuciones, auditoría)
  observatory liquidate [--explain] [--verify] [--rules RUTA] [ARCHIVO...]
                                                      recalcula liquidaciones (JSON Lines); ver liquidation/README.md
  observatory check [URL]                              comprueba que el servicio responde (por defecto http://127.0.0.1:8080/readyz)
  observatory version

Configuración: un archivo YAML (--config u OBSERVATORIO_CONFIG) y variables de entorno:
`

func main() {
	// etl.DefaultGCPercent says why; a GOGC set in the environment still
	// decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(etl.DefaultGCPercent)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	level := slog.LevelInfo
	if os.Getenv("OBSERVATORIO_LOG_LEVEL") == "debug" {
		level = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})))
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:])
	case "migrate":
		err = migrate(ctx, args[1:], stdout)
	case "demo":
		err = demoCmd(ctx, args[1:], stdout)
	case "etl":
		err = etlCmd(ctx, args[1:], stdout, stderr)
	case "backup":
		err = backupCmd(ctx, args[1:], stdout)
	case "restore":
		err = restoreCmd(ctx, args[1:], stdout)
	case "retention":
		err = retentionCmd(ctx, args[1:], stdout)
	case "liquidate":
		// The liquidation core has its own exit codes (1: some line failed,
		// 2: bad options or rules) and writes its own errors.
		return liquidation.RunCLI(ctx, args[1:], os.Stdin, stdout, stderr)
	case "check":
		err = check(ctx, args[1:])
	case "version":
		fmt.Fprintf(stdout, "observatory (chDB %s)\n", warehouse.ChDBVersion)
	case "help", "-h", "--help":
		printUsage(stdout)
	default:
		fmt.Fprintf(stderr, "observatory: orden desconocida %q\n\n", args[0])
		printUsage(stderr)
		return 2
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 2
		}
		fmt.Fprintf(stderr, "observatory: %s\n", strings.Join(strings.Fields(err.Error()), " "))
		return 1
	}
	return 0
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, usage)
	for _, e := range config.Env {
		fmt.Fprintf(w, "  %-40s %s\n", e[0], e[1])
	}
}

// open loads the configuration and opens the warehouse.
func open(ctx context.Context, configPath string) (config.Config, warehouse.Engine, error) {
	cfg, err := config.Load(configPath)
	if err != nil {
		return cfg, nil, err
	}
	eng, err := warehouse.Open(ctx, cfg.Warehouse)
	return cfg, eng, err
}

// prepare migrates the schema, seeds the DIVIPOLA list and writes the
// catalog of Gobierno en Línea / Gobierno Digital frameworks.
func prepare(ctx context.Context, cfg config.Config, eng warehouse.Engine) error {
	if _, err := warehouse.Migrate(ctx, eng, cfg.Warehouse.Cluster); err != nil {
		return err
	}
	n, err := warehouse.SeedEntities(ctx, eng)
	if err != nil {
		return err
	}
	if n > 0 {
		slog.Info("DIVIPOLA cargada", "entidades", n)
	}
	return gel.Default().Sync(ctx, eng)
}

// loadGELDemo loads the Gobierno en Línea demo (Cáqueza's 2009 diagnosis
// and action plan, Bucaramanga's 2020 self-assessment, synthetic series)
// once: the job is skipped when it has already committed.
func loadGELDemo(ctx context.Context, eng warehouse.Engine) error {
	res, err := eng.Query(ctx, "SELECT count() FROM etl_runs WHERE job = {j:String} AND status = 'committed'", warehouse.P("j", geldemo.Job))
	if err != nil || res.Rows[0][0].(uint64) > 0 {
		return err
	}
	rep, err := geldemo.Load(ctx, eng)
	if err != nil {
		return err
	}
	slog.Info("demostración de Gobierno en Línea cargada", "filas", rep.Loaded)
	return nil
}

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	configPath := fs.String("config", "", "archivo de configuración YAML")
	demoMode := fs.Bool("demo", false, "instancia de demostración: carga los datos sintéticos si el almacén está vacío")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, opened, err := open(ctx, *configPath)
	if err != nil {
		return err
	}
	defer opened.Close()
	// The site and the ETL share one watched engine: when the warehouse
	// stops answering, both learn it once and stop waiting on it.
	eng := warehouse.Watch(opened)
	cfg.Demo = cfg.Demo || *demoMode
	if err := prepare(ctx, cfg, eng); err != nil {
		return err
	}
	if cfg.Demo && len(cfg.ETL.Jobs) == 0 {
		if err := loadDemoIfEmpty(ctx, eng, demo.DefaultOptions()); err != nil {
			return err
		}
	}
	if cfg.Demo {
		if err := loadGELDemo(ctx, eng); err != nil {
			return err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var jobs server.JobRunner
	var svc *etlService
	var pending []string // jobs that never committed
	grace := cfg.HTTP.ShutdownGrace
	if len(cfg.ETL.Jobs) > 0 {
		r, err := newRunner(cfg, eng, reg)
		if err != nil {
			return err
		}
		svc = newETLService(r)
		if pending, err = r.Pending(ctx); err != nil {
			return err
		}
	}
	// Publish what changed since the last releases (nothing, usually: the
	// ETL publishes after each committed run). Not while jobs that never
	// committed are about to run: on a new warehouse that published a
	// version 1 without rows of every dataset fed by them, ahead of the
	// first one with the data, and their first commit publishes anyway.
	if len(pending) == 0 {
		if _, err := datasets.Publish(ctx, eng, datasets.PublishOptions{}); err != nil {
			slog.Error("no se pudieron publicar los conjuntos de datos", "error", err)
		}
	}
	if svc != nil {
		// Jobs that never committed run now: in demo mode before serving,
		// so the first page already shows the data; otherwise alongside.
		if len(pending) > 0 {
			done := svc.catchUp(pending)
			if cfg.Demo {
				select {
				case <-done:
				case <-ctx.Done():
					svc.shutdown(grace)
					return nil
				}
			}
		}
		if err := svc.schedule(); err != nil {
			svc.shutdown(0)
			return err
		}
		jobs = svc
	}
	// Backups and the retention policy on their schedules (backup.schedule,
	// retention.schedule).
	maint := &operations.Scheduler{Eng: eng, Cluster: cfg.Warehouse.Cluster, Backup: cfg.Backup, Retention: cfg.Retention,
		Metrics: operations.NewMetrics(reg), StopWait: grace}
	stopMaint, err := maint.Start(ctx)
	if err != nil {
		return err
	}
	defer stopMaint()
	srv := server.New(eng, server.Options{Addr: cfg.HTTP.Addr, Demo: cfg.Demo, Metrics: reg, EmbedFrameAncestors: cfg.HTTP.EmbedFrameAncestors,
		AdminToken: cfg.HTTP.AdminToken, Jobs: jobs, TrustedProxies: cfg.HTTP.TrustedProxies, RateLimits: &cfg.HTTP.RateLimits,
		HeavyQueries: &cfg.HTTP.HeavyQueries, ShutdownGrace: grace})
	if svc == nil {
		return srv.ListenAndServe(ctx)
	}
	// On SIGTERM the ETL and the HTTP server stop together, within the
	// same grace; the warehouse is closed (deferred) after both.
	stopping, stop := context.WithCancel(ctx)
	defer stop()
	etlStopped := make(chan struct{})
	context.AfterFunc(stopping, func() {
		svc.shutdown(grace)
		close(etlStopped)
	})
	err = srv.ListenAndServe(ctx)
	stop()
	<-etlStopped
	return err
}

func loadDemoIfEmpty(ctx context.Context, eng warehouse.Engine, o demo.Options) error {
	res, err := eng.Query(ctx, "SELECT count() FROM liquidations")
	if err != nil {
		return err
	}
	if res.Rows[0][0].(uint64) > 0 {
		return nil
	}
	return loadDemo(ctx, eng, o)
}

func loadDemo(ctx context.Context, eng warehouse.Engine, o demo.Options) error {
	key, generated, err := etl.KeyFromEnv(true)
	if err != nil {
		return err
	}
	if generated {
		slog.Warn("modo demostración: clave de seudonimización generada al azar para este proceso; en producción defina OBSERVATORIO_PSEUDONYM_KEY")
	}
	p, err := etl.NewPseudonymizer(key)
	if err != nil {
		return err
	}
	rep, err := etl.LoadDemo(ctx, eng, p, o)
	if err != nil {
		return err
	}
	slog.Info("datos de demostración cargados", "liquidaciones", rep.Liquidations, "pagos", rep.Payments, "ejecucion", rep.RunID)
	return nil
}

func migrate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	configPath := fs.String("config", "", "archivo de configuración YAML")
	print := fs.Bool("print", false, "imprime el DDL sin aplicarlo (con --cluster, el de clúster)")
	cluster := fs.String("cluster", "", "con --print: nombre del clúster para el DDL ON CLUSTER")
	database := fs.String("database", "observatorio", "con --print: base de datos")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *print {
		migs, err := warehouse.Migrations()
		if err != nil {
			return err
		}
		l := warehouse.Layout{Database: *database, Cluster: *cluster}
		for _, m := range migs {
			stmts, err := l.Statements(m.SQL)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "-- %04d_%s\n", m.Version, m.Name)
			for _, s := range stmts {
				fmt.Fprintf(stdout, "%s;\n\n", s)
			}
		}
		return nil
	}
	cfg, eng, err := open(ctx, *configPath)
	if err != nil {
		return err
	}
	defer eng.Close()
	rep, err := warehouse.Migrate(ctx, eng, cfg.Warehouse.Cluster)
	if err != nil {
		return err
	}
	n, err := warehouse.SeedEntities(ctx, eng)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "esquema en la versión %d (%d migraciones aplicadas ahora), %d entidades DIVIPOLA sembradas, motor %s\n",
		rep.Current, len(rep.Applied), n, eng.Kind())
	return nil
}

func demoCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "generate" {
		return demoGenerate(ctx, args[1:], stdout)
	}
	if len(args) == 0 || args[0] != "load" {
		return errors.New("uso: observatory demo generate [--out CARPETA] [--scale X] [--seed N] | observatory demo load [--config ARCHIVO] [--scale X] [--seed N]")
	}
	fs := flag.NewFlagSet("demo load", flag.ContinueOnError)
	configPath := fs.String("config", "", "archivo de configuración YAML")
	o := demo.DefaultOptions()
	fs.Float64Var(&o.Scale, "scale", o.Scale, "tamaño relativo (1 ≈ 5.100 liquidaciones)")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "semilla (misma semilla, mismos datos)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, eng, err := open(ctx, *configPath)
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := prepare(ctx, cfg, eng); err != nil {
		return err
	}
	if err := loadDemo(ctx, eng, o); err != nil {
		return err
	}
	_, err = datasets.Publish(ctx, eng, datasets.PublishOptions{})
	return err
}

// demoGenerate writes the demo's source files and the job configuration
// that loads them.
func demoGenerate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo generate", flag.ContinueOnError)
	out := fs.String("out", "var/demo", "carpeta de salida")
	o := demo.DefaultOptions()
	fs.Float64Var(&o.Scale, "scale", o.Scale, "tamaño relativo (1: las cifras de las semillas; 40: unos 22 millones de filas)")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "semilla (misma semilla y tamaño, mismos bytes)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	m, err := demo.Generate(ctx, *out, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "datos de demostración en %s (%s): %d archivos, %d filas de datos, %d filas con errores deliberados, en %s\n",
		*out, filepath.Join(*out, demo.ConfigFile), m.Totals.Files, m.Totals.DataRows, m.Totals.Rejected, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "cárguelos con: observatory etl run --config %s   o sírvalos con: observatory serve --config %s\n",
		filepath.Join(*out, demo.ConfigFile), filepath.Join(*out, demo.ConfigFile))
	return nil
}

// check is the container health probe: the runtime image has no curl.
func check(ctx context.Context, args []string) error {
	url := "http://127.0.0.1:8080/readyz"
	if len(args) > 0 {
		url = args[0]
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s respondió %s", url, resp.Status)
	}
	return nil
}
