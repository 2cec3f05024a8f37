package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/observatorio-civico/observatorio/config"
	"github.com/observatorio-civico/observatorio/formato"
	"github.com/observatorio-civico/observatorio/operations"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// openForMaintenance opens the warehouse for a backup, a restore or a
// retention pass. A running serve holds the embedded engine's data
// directory (chDB locks it), which the error then says.
func openForMaintenance(ctx context.Context, configPath string) (config.Config, warehouse.Engine, error) {
	cfg, eng, err := open(ctx, configPath)
	if err != nil && warehouse.IsConfigError(err) && strings.Contains(err.Error(), "no se pudo abrir el almacén embebido") {
		err = fmt.Errorf("%w. Si `observatory serve` está usando este almacén embebido, deténgalo antes (las copias de un servicio en marcha se programan en él: backup.schedule)", err)
	}
	return cfg, eng, err
}

func backupCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "verify" {
		return backupVerify(args[1:], stdout)
	}
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	configPath := fs.String("config", "", "archivo de configuración YAML")
	out := fs.String("out", "", "carpeta nueva donde escribir la copia")
	compression := fs.String("compression", "", "zstd (por defecto) o none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("uso: observatory backup [--config ARCHIVO] --out CARPETA [--compression zstd|none]")
	}
	cfg, eng, err := openForMaintenance(ctx, *configPath)
	if err != nil {
		return err
	}
	defer eng.Close()
	if *compression == "" {
		*compression = cfg.Backup.Compression
	}
	m, err := warehouse.Backup(ctx, eng, warehouse.BackupOptions{Dir: *out, Cluster: cfg.Warehouse.Cluster, Compression: *compression})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tabla\tfilas\tbytes\tbytes sin comprimir\t")
	var raw int64
	for _, t := range m.Tables {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", t.Name, formato.Number(int64(t.Rows)), formato.Number(t.Bytes), formato.Number(t.RawBytes))
		raw += t.RawBytes
	}
	tw.Flush()
	fmt.Fprintf(stdout, "copia en %s: %d tablas, %s filas, %.1f MB (%.1f MB sin comprimir), motor %s %s, en %s\n",
		*out, len(m.Tables), formato.Number(int64(m.TotalRows())), float64(m.TotalBytes())/1e6, float64(raw)/1e6,
		m.Engine, m.EngineVersion, (time.Duration(m.Seconds * float64(time.Second))).Round(time.Millisecond))
	return nil
}

func backupVerify(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("backup verify", flag.ContinueOnError)
	from := fs.String("from", "", "carpeta de la copia")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" {
		return errors.New("uso: observatory backup verify --from CARPETA")
	}
	m, err := warehouse.ReadManifest(*from)
	if err != nil {
		return err
	}
	if err := warehouse.VerifyBackup(*from, m, warehouse.VerifyOptions{Deep: true}); err != nil {
		return err
	}
	last := m.Migrations[len(m.Migrations)-1]
	fmt.Fprintf(stdout, "copia íntegra: %d archivos con su tamaño, su suma SHA-256 y su número de filas; %s filas; esquema hasta la migración %04d_%s; hecha el %s desde %s %s\n",
		len(m.Tables), formato.Number(int64(m.TotalRows())), last.Version, last.Name, m.Created.Format("2006-01-02 15:04:05 UTC"), m.Engine, m.EngineVersion)
	return nil
}

func restoreCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	configPath := fs.String("config", "", "archivo de configuración YAML")
	from := fs.String("from", "", "carpeta de la copia")
	force := fs.Bool("force", false, "vacía un almacén que tiene filas y lo reemplaza por la copia")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" {
		return errors.New("uso: observatory restore [--config ARCHIVO] --from CARPETA [--force]")
	}
	cfg, eng, err := openForMaintenance(ctx, *configPath)
	if err != nil {
		return err
	}
	defer eng.Close()
	rep, err := warehouse.Restore(ctx, eng, warehouse.RestoreOptions{Dir: *from, Cluster: cfg.Warehouse.Cluster, Force: *force})
	if err != nil {
		return err
	}
	var rows uint64
	for _, t := range rep.Tables {
		rows += t.Rows
	}
	m := rep.Manifest
	fmt.Fprintf(stdout, "restaurada la copia del %s (%s %s, base %s) en %s, base %s: %d tablas, %s filas, en %s",
		m.Created.Format("2006-01-02 15:04:05 UTC"), m.Engine, m.EngineVersion, m.Database, eng.Kind(), eng.Database(),
		len(rep.Tables), formato.Number(int64(rows)), (time.Duration(rep.Seconds * float64(time.Second))).Round(time.Millisecond))
	if len(rep.Emptied) > 0 {
		fmt.Fprintf(stdout, "; se vaciaron antes %d tablas (--force)", len(rep.Emptied))
	}
	fmt.Fprintln(stdout)
	return nil
}

func retentionCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "run" {
		return errors.New("uso: observatory retention run [--config ARCHIVO] [--dry-run]")
	}
	fs := flag.NewFlagSet("retention run", flag.ContinueOnError)
	configPath := fs.String("config", "", "archivo de configuración YAML")
	dry := fs.Bool("dry-run", false, "cuenta lo que se borraría sin borrar nada")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, eng, err := openForMaintenance(ctx, *configPath)
	if err != nil {
		return err
	}
	defer eng.Close()
	if _, err := warehouse.Migrate(ctx, eng, cfg.Warehouse.Cluster); err != nil {
		return err
	}
	s := &operations.Scheduler{Eng: eng, Cluster: cfg.Warehouse.Cluster, Retention: cfg.Retention}
	rep, err := s.RunRetention(ctx, "cli", *dry)
	if rep != nil {
		fmt.Fprintln(stdout, rep.Describe())
	}
	return err
}
