package warehouse_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// fillForBackup writes rows of every column type the schema uses into a
// dozen tables, with several versions of some keys in the tables that merge
// them (a run's "running" and "committed" rows, a watermark moved twice),
// as the ETL leaves them before a merge.
func fillForBackup(t *testing.T, e warehouse.Engine) {
	t.Helper()
	ctx := context.Background()
	stmts := []string{
		`INSERT INTO liquidations (liquidation_id, municipality_code, tax, tax_year, taxpayer_pseudonym, taxpayer_kind, filing_channel, issue_date, due_date, base_amount, inputs, billed_total, expected_total, verification_status, verification_diff, verification_detail, source, source_file, source_line, run_id, loaded_at)
		 SELECT concat('L-', toString(number)), if(number % 2 = 0, '68001', '18001'), 'predial', toUInt16(2020 + number % 5), hex(MD5(toString(number))), 'natural', 'web',
		        toDate('2024-01-01') + number % 300, toDate('2024-03-01') + number % 300, toDecimal64(number * 1000, 2), '{"estrato":"3","nota":"ñandú\ttab\nlínea"}',
		        toDecimal64(number, 2), toDecimal64(number, 2), 'match', toDecimal64(0, 2), '', 'demo', 'liq.csv', number + 2, 'run-1', toDateTime('2024-05-01 10:00:00')
		 FROM system.numbers LIMIT 5000`,
		`INSERT INTO budget_lines (department_code, entity_code, entity_name, rubro, year, budget_final, budget_constant_2025, source, source_file, source_line, run_id, loaded_at)
		 SELECT '68', '68001', 'Bucaramanga', concat('R', toString(number)), toUInt16(2020), toDecimal64(number, 2), if(number % 3 = 0, NULL, toDecimal64(number * 2, 2)), 'fut', 'fut.csv', number, 'run-1', toDateTime('2024-05-01 10:00:00')
		 FROM system.numbers LIMIT 300`,
		`INSERT INTO pub_pagos_diarios (release, fila, clave, huella, fecha, codigo_municipio, municipio, impuesto, canal, pagos, recaudo, suprimido)
		 SELECT 1, number + 1, toString(number), cityHash64(number), toDate('2024-01-01') + number % 100, '68001', 'Bucaramanga', 'predial', 'pse',
		        if(number % 4 = 0, NULL, toUInt32(number)), if(number % 4 = 0, NULL, toDecimal64(number, 2)), toUInt8(number % 4 = 0)
		 FROM system.numbers LIMIT 2000`,
		`INSERT INTO dash_agg_meses (version, mes, codigo_municipio, impuesto, pagos, recaudo)
		 SELECT 7, toDate('2024-01-01') + number, '68001', 'ica', number, if(number % 5 = 0, NULL, toDecimal128(number, 2)) FROM system.numbers LIMIT 100`,
		`INSERT INTO gel_phases (catalog, framework, phase, position, name, summary, kind, deadline, target, criteria, refs, updated_at)
		 SELECT 'c1', 'gel2008', concat('f', toString(number)), toUInt16(number), 'Fase', '', 'fase', if(number = 2, NULL, toDate('2010-12-01')), toDecimal32(100, 4), toUInt16(5), '[]', toDateTime('2024-01-01 00:00:00')
		 FROM system.numbers LIMIT 5`,
		`INSERT INTO dashboard_aggregates (version, created_at, cutoff, stamp, seconds) VALUES (7, '2024-05-01 10:05:00', '2024-05-01', '1@2024-05-01T10:00:00Z', 0.25)`,
		`INSERT INTO etl_runs (run_id, job, started_at, finished_at, status, rows_read, rows_loaded, rows_quarantined, rows_skipped, rows_unchanged, error)
		 VALUES ('run-1', 'liq', '2024-05-01 09:59:00', '2024-05-01 09:59:00', 'running', 0, 0, 0, 0, 0, '')`,
		`INSERT INTO etl_runs (run_id, job, started_at, finished_at, status, rows_read, rows_loaded, rows_quarantined, rows_skipped, rows_unchanged, error)
		 VALUES ('run-1', 'liq', '2024-05-01 09:59:00', '2024-05-01 10:00:00', 'committed', 5302, 5300, 2, 0, 0, '')`,
		`INSERT INTO watermarks (job, source, watermark, run_id, updated_at) VALUES ('liq', 'src', '{"rows":1}', 'run-0', '2024-04-01 10:00:00')`,
		`INSERT INTO watermarks (job, source, watermark, run_id, updated_at) VALUES ('liq', 'src', '{"rows":5302}', 'run-1', '2024-05-01 10:00:00')`,
		`INSERT INTO quarantine (job, source, source_file, source_line, field, raw, code, reason, run_id, quarantined_at)
		 VALUES ('liq', 'src', 'liq.csv', 7, 'avaluo', 'mil', 'numero', 'no es un número', 'run-1', '2024-05-01 09:59:00')`,
		`INSERT INTO dataset_releases (dataset, release, created_at, cutoff, rows, suppressed_cells, suppressed_rows, fingerprint, files, disclosure, engine)
		 VALUES ('pagos-diarios', 1, '2024-05-01 10:01:00', '2024-05-01 10:00:00', 2000, 500, 0, 'abc', '[]', '{}', 'embedded')`,
		`INSERT INTO dataset_files (dataset, release, name, chunk, data) VALUES ('pagos-diarios', 1, 'datos.csv', 0, 'a,b\n1,2\n')`,
		`INSERT INTO admin_audit (at, action, target, status, client, detail) VALUES ('2024-05-02 08:00:00', 'publish', '', 200, '10.0.0.1', '1 publicaciones')`,
		`INSERT INTO dataset_stats (dataset, day, views, downloads) VALUES ('pagos-diarios', '2024-05-02', 3, 1)`,
		`INSERT INTO dataset_stats (dataset, day, views, downloads) VALUES ('pagos-diarios', '2024-05-02', 2, 0)`,
	}
	for _, s := range stmts {
		// clickhouse-go's Exec of INSERT ... VALUES hangs on 18.16: insert
		// the same values with INSERT ... SELECT.
		if head, vals, ok := strings.Cut(s, " VALUES ("); ok {
			s = head + " SELECT " + strings.TrimSuffix(vals, ")")
		}
		if err := e.Exec(ctx, s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
}

// sameContent compares every schema table of two warehouses.
func sameContent(t *testing.T, a, b warehouse.Engine) {
	t.Helper()
	schema, err := warehouse.Schema()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range schema {
		ra, ha := whtest.Checksum(t, a, s.Name)
		rb, hb := whtest.Checksum(t, b, s.Name)
		if ra != rb || ha != hb {
			t.Errorf("%s: %d filas (suma %d) en el origen, %d (suma %d) restauradas", s.Name, ra, ha, rb, hb)
		}
	}
}

func backupTo(t *testing.T, e warehouse.Engine, o warehouse.BackupOptions) (string, *warehouse.BackupManifest) {
	t.Helper()
	if o.Dir == "" {
		o.Dir = filepath.Join(t.TempDir(), "copia")
	}
	m, err := warehouse.Backup(context.Background(), e, o)
	if err != nil {
		t.Fatal(err)
	}
	return o.Dir, m
}

// TestBackupRestore copies a warehouse and restores it on the same engine
// and on the other one: every table comes back with the same rows.
func TestBackupRestore(t *testing.T) {
	ctx := context.Background()
	emb := whtest.Embedded(t)
	fillForBackup(t, emb)
	srv, chs := whtest.Server(t)
	fillForBackup(t, srv)
	sources := map[string]warehouse.Engine{"embedded": emb, "server": srv}
	fresh := map[string]func(t *testing.T) warehouse.Engine{
		"embedded": func(t *testing.T) warehouse.Engine { return whtest.Embedded(t) },
		"server":   func(t *testing.T) warehouse.Engine { return whtest.OpenServer(t, chs, "") },
	}
	backups := map[string]string{}
	for _, kind := range []string{"embedded", "server"} {
		dir, m := backupTo(t, sources[kind], warehouse.BackupOptions{})
		backups[kind] = dir
		schema, _ := warehouse.Schema()
		if len(m.Tables) != len(schema) || m.Engine != kind || m.Attempts != 1 || m.Compression != "zstd" {
			t.Fatalf("%s: manifest %d tables of %d, engine %s, attempts %d", kind, len(m.Tables), len(schema), m.Engine, m.Attempts)
		}
		for _, bt := range m.Tables {
			rows, _ := whtest.Checksum(t, sources[kind], bt.Name)
			if bt.Rows != rows {
				t.Errorf("%s: manifest says %d rows of %s, the warehouse shows %d", kind, bt.Rows, bt.Name, rows)
			}
		}
		// Two versions of run-1, one row in the copy.
		for _, bt := range m.Tables {
			if bt.Name == "etl_runs" && bt.Rows != 1 || bt.Name == "liquidations" && bt.Rows != 5000 || bt.Name == "dataset_stats" && bt.Rows != 1 {
				t.Errorf("%s: %s has %d rows in the copy", kind, bt.Name, bt.Rows)
			}
		}
		if err := warehouse.VerifyBackup(dir, m, warehouse.VerifyOptions{Deep: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, from := range []string{"embedded", "server"} {
		for _, to := range []string{"embedded", "server"} {
			t.Run(from+"→"+to, func(t *testing.T) {
				dst := fresh[to](t)
				// Through a watched engine, as serve holds it.
				rep, err := warehouse.Restore(ctx, warehouse.Watch(dst), warehouse.RestoreOptions{Dir: backups[from]})
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Emptied) != 0 || len(rep.Tables) == 0 {
					t.Fatalf("report: %+v", rep)
				}
				sameContent(t, sources[from], dst)
			})
		}
	}
}

// TestRestoreRefuses checks what a restore must not do: load a damaged or
// incomplete copy, a copy of another schema, or write over a warehouse that
// has rows unless told to.
func TestRestoreRefuses(t *testing.T) {
	whtest.Each(t, func(t *testing.T, src warehouse.Engine) {
		ctx := context.Background()
		fillForBackup(t, src)
		dir, m := backupTo(t, src, warehouse.BackupOptions{Compression: "none"})
		if m.Tables[0].File != "watermarks.native" {
			t.Fatalf("first file %s: the commit records go first", m.Tables[0].File)
		}
		// A copy is never written over another.
		if _, err := warehouse.Backup(ctx, src, warehouse.BackupOptions{Dir: dir}); err == nil || !strings.Contains(err.Error(), "no está vacía") {
			t.Fatalf("backup over a backup: %v", err)
		}

		damaged := func(t *testing.T, edit func(dir string)) string {
			d := filepath.Join(t.TempDir(), "copia")
			copyDir(t, dir, d)
			edit(d)
			return d
		}
		target := whtest.Embedded(t)
		cases := []struct {
			name, want string
			edit       func(dir string)
		}{
			{"flipped byte", "liquidations.native", func(d string) { flipByte(t, filepath.Join(d, "liquidations.native")) }},
			{"missing file", "falta el archivo", func(d string) { os.Remove(filepath.Join(d, "quarantine.native")) }},
			{"no manifest", "no es una copia de seguridad completa", func(d string) { os.Remove(filepath.Join(d, warehouse.ManifestFile)) }},
			{"other schema", "0001_core", func(d string) {
				editManifest(t, d, func(m *warehouse.BackupManifest) { m.Migrations[0].Checksum = strings.Repeat("0", 64) })
			}},
			{"newer schema", "más nuevo", func(d string) {
				editManifest(t, d, func(m *warehouse.BackupManifest) {
					m.Migrations = append(m.Migrations, warehouse.BackupMigration{Version: 9999, Name: "futuro", Checksum: "x"})
				})
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := warehouse.Restore(ctx, target, warehouse.RestoreOptions{Dir: damaged(t, c.edit)})
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("restore: %v, want an error naming %q", err, c.want)
				}
				// Refused before anything was written.
				if n, _ := whtest.Checksum(t, target, "liquidations"); n != 0 {
					t.Fatalf("the refused restore wrote %d rows", n)
				}
			})
		}

		// A warehouse with rows is refused, then replaced with --force.
		if _, err := warehouse.Restore(ctx, src, warehouse.RestoreOptions{Dir: dir}); err == nil || !strings.Contains(err.Error(), "no está vacío") || !strings.Contains(err.Error(), "liquidations (5.000 filas)") {
			t.Fatalf("restore over rows: %v", err)
		}
		if err := src.Exec(ctx, "INSERT INTO admin_audit (at, action, target, status, client, detail) SELECT '2024-06-01 00:00:00', 'extra', '', 200, '', ''"); err != nil {
			t.Fatal(err)
		}
		rep, err := warehouse.Restore(ctx, src, warehouse.RestoreOptions{Dir: dir, Force: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Emptied) == 0 {
			t.Fatal("force restore emptied nothing")
		}
		for _, bt := range m.Tables {
			if n, _ := whtest.Checksum(t, src, bt.Name); n != bt.Rows {
				t.Errorf("%s: %d rows after the forced restore, the copy has %d", bt.Name, n, bt.Rows)
			}
		}
	})
}

// commitDuring is an engine on which an ETL run commits while the backup
// exports the liquidations, on the first `times` attempts.
type commitDuring struct {
	warehouse.Engine
	times int32
	n     atomic.Int32
}

func (c *commitDuring) Stream(ctx context.Context, w io.Writer, format, sql string, params ...warehouse.Param) error {
	if strings.Contains(sql, "`liquidations`") && c.n.Add(1) <= c.times {
		id := "run-x" + string(rune('0'+c.n.Load()))
		if err := c.Engine.Exec(ctx, `INSERT INTO etl_runs (run_id, job, started_at, finished_at, status, rows_read, rows_loaded, rows_quarantined, rows_skipped, rows_unchanged, error)
			SELECT '`+id+`', 'liq', '2024-06-01 09:00:00', '2024-06-01 09:01:00', 'committed', 0, 0, 0, 0, 0, ''`); err != nil {
			return err
		}
	}
	return c.Engine.Stream(ctx, w, format, sql, params...)
}

// TestBackupWhileCommitting: a run that commits during the copy makes the
// copy start again, so the copy's run log and its rows agree; an ETL that
// commits during every attempt makes the backup fail rather than lie.
func TestBackupWhileCommitting(t *testing.T) {
	e := whtest.Embedded(t)
	fillForBackup(t, e)
	_, m := backupTo(t, &commitDuring{Engine: e, times: 1}, warehouse.BackupOptions{})
	if m.Attempts != 2 {
		t.Fatalf("attempts = %d, want 2", m.Attempts)
	}
	for _, bt := range m.Tables {
		if bt.Name == "etl_runs" && bt.Rows != 2 {
			t.Fatalf("etl_runs in the copy: %d rows, want the committed run-1 and run-x1", bt.Rows)
		}
	}
	_, err := warehouse.Backup(context.Background(), &commitDuring{Engine: e, times: 10}, warehouse.BackupOptions{Dir: filepath.Join(t.TempDir(), "c"), Attempts: 2})
	if err == nil || !strings.Contains(err.Error(), "2 intentos") {
		t.Fatalf("backup under constant commits: %v", err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x20
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func editManifest(t *testing.T, dir string, edit func(m *warehouse.BackupManifest)) {
	t.Helper()
	m, err := warehouse.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, warehouse.ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRestoreOlderCopy restores a copy made before the newest migration:
// the restore migrates the rest and records it as applied now, keeping the
// copy's record of the others.
func TestRestoreOlderCopy(t *testing.T) {
	ctx := context.Background()
	src := whtest.Embedded(t)
	fillForBackup(t, src)
	dir, _ := backupTo(t, src, warehouse.BackupOptions{})
	migs, _ := warehouse.Migrations()
	last := migs[len(migs)-1]
	editManifest(t, dir, func(m *warehouse.BackupManifest) {
		m.Migrations = m.Migrations[:len(m.Migrations)-1]
		// The copy's schema_migrations file still lists the newest one;
		// drop the table's entry that only the newest migration creates.
		var keep []warehouse.BackupTable
		for _, bt := range m.Tables {
			if bt.Name != "admin_audit" {
				keep = append(keep, bt)
			}
		}
		m.Tables = keep
	})
	dst := whtest.Embedded(t)
	if _, err := warehouse.Restore(ctx, dst, warehouse.RestoreOptions{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if n, _ := whtest.Checksum(t, dst, "liquidations"); n != 5000 {
		t.Fatalf("liquidations: %d", n)
	}
	res, err := dst.Query(ctx, "SELECT count() FROM schema_migrations FINAL WHERE version = {v:UInt32}", warehouse.P("v", last.Version))
	if err != nil || res.Rows[0][0].(uint64) != 1 {
		t.Fatalf("newest migration recorded: %v %v", res, err)
	}
}
