package warehouse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/observatorio-civico/observatorio/formato"
)

// Backups are logical: every table of the migrated schema is exported with
// SELECT ... FORMAT Native into a file of its own, next to a manifest that
// records the schema's migrations, each file's row count, size and SHA-256.
// The same SQL runs on both engines (ClickHouse 18.16 has no BACKUP or
// RESTORE statement; chDB has no server to run them), the Native bytes are
// the same from both, and a copy made on one engine restores on the other.
// In cluster mode the export reads through the Distributed tables and the
// restore writes through them, so a copy does not depend on the number of
// shards.
//
// Tables whose engine merges rows by key (Replacing, Summing) are exported
// with FINAL: the copy holds the rows readers see, one per key, so the
// restored warehouse has exactly the manifest's row count however its
// background merges go.

// BackupFormat names the layout of a backup folder; a restore refuses any
// other.
const BackupFormat = "observatorio-copia/1"

// ManifestFile is the manifest's name inside a backup folder.
const ManifestFile = "manifest.json"

// BackupManifest describes a backup folder.
type BackupManifest struct {
	Format        string            `json:"formato"`
	Created       time.Time         `json:"creada"`
	Engine        string            `json:"motor"`
	EngineVersion string            `json:"version_motor"`
	Database      string            `json:"base_de_datos"`
	Cluster       string            `json:"cluster,omitempty"`
	DataFormat    string            `json:"formato_datos"`
	Compression   string            `json:"compresion"`
	Migrations    []BackupMigration `json:"migraciones"`
	// Stamp is the state of the commit records (ETL runs, watermarks,
	// releases, dashboard aggregates) the copy was taken at.
	Stamp    string        `json:"sello"`
	Attempts int           `json:"intentos"`
	Seconds  float64       `json:"segundos"`
	Tables   []BackupTable `json:"tablas"`
	// Skipped are tables found in the database that no migration creates:
	// not the observatory's, not copied.
	Skipped []string `json:"tablas_no_copiadas,omitempty"`
}

// BackupMigration is one applied migration.
type BackupMigration struct {
	Version  int    `json:"version"`
	Name     string `json:"nombre"`
	Checksum string `json:"sha256"`
}

// BackupTable is one table's file.
type BackupTable struct {
	Name     string         `json:"nombre"`
	File     string         `json:"archivo"`
	Final    bool           `json:"final"`
	Rows     uint64         `json:"filas"`
	RawBytes int64          `json:"bytes_native"`
	Bytes    int64          `json:"bytes"`
	SHA256   string         `json:"sha256"`
	Seconds  float64        `json:"segundos"`
	Columns  []BackupColumn `json:"columnas"`
}

// BackupColumn is a column of a copied table.
type BackupColumn struct {
	Name string `json:"nombre"`
	Type string `json:"tipo"`
}

// TotalRows and TotalBytes sum the tables.
func (m *BackupManifest) TotalRows() (n uint64) {
	for _, t := range m.Tables {
		n += t.Rows
	}
	return n
}

func (m *BackupManifest) TotalBytes() (n int64) {
	for _, t := range m.Tables {
		n += t.Bytes
	}
	return n
}

// BackupOptions configure Backup.
type BackupOptions struct {
	// Dir is the backup folder to create; it must not exist or be empty.
	Dir string
	// Cluster is the warehouse's cluster ("" on one node).
	Cluster string
	// Compression is "zstd" (the default) or "none".
	Compression string
	// Attempts bounds the copies tried while the ETL keeps committing
	// (default 3).
	Attempts int
	Log      *slog.Logger
}

// SchemaTable is a table the migrations create.
type SchemaTable struct {
	Name string
	// Merges says that its engine merges rows by key (Replacing, Summing):
	// readers see its rows through FINAL.
	Merges bool
}

// Schema lists the tables the embedded migrations create, in their order,
// schema_migrations first.
func Schema() ([]SchemaTable, error) {
	migs, err := Migrations()
	if err != nil {
		return nil, err
	}
	out := []SchemaTable{{Name: "schema_migrations", Merges: true}}
	for _, m := range migs {
		for _, raw := range splitStatements(m.SQL) {
			if c := createRe.FindStringSubmatch(strings.TrimSpace(stripComments(raw))); c != nil {
				out = append(out, SchemaTable{Name: c[1], Merges: c[3] != ""})
			}
		}
	}
	return out, nil
}

// recordTables are the tables whose rows make other rows count: a committed
// run in etl_runs and its watermarks, a release in dataset_releases, a
// version in dashboard_aggregates. Each is written after the rows it vouches
// for, so a backup exports them first (every record it holds has its rows
// in the later exports) and a restore loads them last (an interrupted
// restore leaves rows nobody sees, never a record without its rows).
// Watermarks go before the run log because the ETL writes them before the
// committed run.
var recordTables = []string{"watermarks", "etl_runs", "dataset_releases", "dashboard_aggregates", "schema_migrations"}

func isRecord(name string) bool {
	for _, r := range recordTables {
		if r == name {
			return true
		}
	}
	return false
}

// exportOrder puts the record tables first, then the rest in schema order.
func exportOrder(ts []SchemaTable) []SchemaTable {
	var out []SchemaTable
	for _, r := range recordTables {
		for _, t := range ts {
			if t.Name == r {
				out = append(out, t)
			}
		}
	}
	for _, t := range ts {
		if !isRecord(t.Name) {
			out = append(out, t)
		}
	}
	return out
}

// stampSQL reads what changes when the ETL commits a run, a release is
// published or the dashboards' aggregates are refreshed. Background merges
// do not change it.
const stampSQL = `SELECT
    (SELECT count() FROM etl_runs WHERE status = 'committed') AS runs,
    (SELECT max(finished_at) FROM etl_runs WHERE status = 'committed') AS last_run,
    (SELECT max(updated_at) FROM watermarks) AS last_mark,
    (SELECT uniqExact(dataset, release) FROM dataset_releases) AS releases,
    (SELECT max(version) FROM dashboard_aggregates) AS aggregates,
    (SELECT uniqExact(version) FROM schema_migrations) AS migrations`

func readStamp(ctx context.Context, e Engine) (string, error) {
	res, err := e.Query(ctx, stampSQL)
	if err != nil {
		return "", fmt.Errorf("leyendo el sello de cargas: %w", err)
	}
	parts := make([]string, len(res.Columns))
	for i, v := range res.Rows[0] {
		if t, ok := v.(time.Time); ok {
			v = t.UTC().Format(time.RFC3339)
		}
		parts[i] = fmt.Sprintf("%s=%v", res.Columns[i].Name, v)
	}
	return strings.Join(parts, " "), nil
}

// appliedMigrations reads schema_migrations.
func appliedMigrations(ctx context.Context, e Engine) ([]BackupMigration, error) {
	res, err := e.Query(ctx, "SELECT version, argMax(name, applied_at), argMax(checksum, applied_at) FROM schema_migrations GROUP BY version ORDER BY version")
	if err != nil {
		return nil, err
	}
	out := make([]BackupMigration, len(res.Rows))
	for i, r := range res.Rows {
		out[i] = BackupMigration{Version: int(r[0].(uint64)), Name: r[1].(string), Checksum: r[2].(string)}
	}
	return out, nil
}

// checkSameSchema refuses a warehouse whose migrations are not exactly the
// binary's: the tables to copy come from the binary's migrations.
func checkSameSchema(applied []BackupMigration) error {
	migs, err := Migrations()
	if err != nil {
		return err
	}
	have := map[int]BackupMigration{}
	for _, a := range applied {
		have[a.Version] = a
	}
	known := map[int]bool{}
	for _, m := range migs {
		known[m.Version] = true
		a, ok := have[m.Version]
		switch {
		case !ok:
			return fmt.Errorf("el almacén no tiene aplicada la migración %04d_%s de este binario: ejecute `observatory migrate` antes de copiarlo", m.Version, m.Name)
		case a.Checksum != m.Checksum:
			return fmt.Errorf("la migración %04d_%s del almacén (suma %.12s…) no es la de este binario (%.12s…)", m.Version, m.Name, a.Checksum, m.Checksum)
		}
	}
	for _, a := range applied {
		if !known[a.Version] {
			return fmt.Errorf("el almacén tiene la migración %04d_%s, que este binario no conoce: copie con el binario que lo migró", a.Version, a.Name)
		}
	}
	return nil
}

// describe returns the stored columns of a table in order (MATERIALIZED and
// ALIAS columns are computed, not stored: they are not copied).
func describe(ctx context.Context, e Engine, table string) ([]BackupColumn, error) {
	res, err := e.Query(ctx, "DESCRIBE TABLE "+quoteIdent(e.Database())+"."+quoteIdent(table))
	if err != nil {
		return nil, err
	}
	kind := res.Index("default_type")
	var out []BackupColumn
	for _, r := range res.Rows {
		if kind >= 0 {
			if k, _ := r[kind].(string); k == "MATERIALIZED" || k == "ALIAS" {
				continue
			}
		}
		out = append(out, BackupColumn{Name: r[0].(string), Type: r[1].(string)})
	}
	return out, nil
}

func asColumns(bc []BackupColumn) []Column {
	out := make([]Column, len(bc))
	for i, c := range bc {
		out[i] = Column{Name: c.Name, Type: c.Type}
	}
	return out
}

// Backup copies every table of the warehouse's schema into a new folder.
//
// Consistency without stopping the ETL: the commit records are exported
// before the rows they vouch for (see recordTables), and the copy is taken
// again, up to Attempts times, when a run commits, a release is published
// or the dashboards refresh while it is being made (the stamp read before
// and after differs). Rows of a run still loading may be in the copy, as
// they are in the warehouse after a crash: the run is not committed in the
// copy, its watermarks did not advance, and the next run loads them again.
func Backup(ctx context.Context, e Engine, o BackupOptions) (*BackupManifest, error) {
	start := time.Now()
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	if o.Compression == "" {
		o.Compression = "zstd"
	}
	if o.Compression != "zstd" && o.Compression != "none" {
		return nil, fmt.Errorf("compresión desconocida %q: use zstd o none", o.Compression)
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	if err := checkNewDir(dir); err != nil {
		return nil, err
	}
	res, err := e.Query(ctx, "SELECT count() FROM system.tables WHERE database = {db:String} AND name = 'schema_migrations'", P("db", e.Database()))
	if err != nil {
		return nil, err
	}
	if res.Rows[0][0].(uint64) == 0 {
		return nil, fmt.Errorf("el almacén (%s, base de datos %s) no tiene el esquema del observatorio: no hay nada que copiar; revise la configuración (ruta de datos, servidor, base de datos)", e.Kind(), e.Database())
	}
	applied, err := appliedMigrations(ctx, e)
	if err != nil {
		return nil, fmt.Errorf("leyendo las migraciones del almacén: %w", err)
	}
	if err := checkSameSchema(applied); err != nil {
		return nil, err
	}
	schema, err := Schema()
	if err != nil {
		return nil, err
	}
	skipped, err := foreignTables(ctx, e, schema, o.Cluster)
	if err != nil {
		return nil, err
	}
	for _, s := range skipped {
		if what, ok := WorkingTable(s); ok {
			log.Info("copia de seguridad: tabla de trabajo, no se copia", "tabla", s, "contenido", what)
			continue
		}
		log.Warn("copia de seguridad: tabla ajena al esquema, no se copia", "tabla", s)
	}
	version := ""
	if res, err := e.Query(ctx, "SELECT version()"); err == nil {
		version = res.Rows[0][0].(string)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".parcial-")
	if err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	m := &BackupManifest{
		Format: BackupFormat, Created: time.Now().UTC().Truncate(time.Second), Engine: e.Kind(), EngineVersion: version,
		Database: e.Database(), Cluster: o.Cluster, DataFormat: "Native", Compression: o.Compression,
		Migrations: applied, Skipped: skipped,
	}
	for attempt := 1; ; attempt++ {
		before, err := readStamp(ctx, e)
		if err != nil {
			return nil, err
		}
		m.Tables = m.Tables[:0]
		for _, t := range exportOrder(schema) {
			bt, err := exportTable(ctx, e, tmp, t, o.Compression)
			if err != nil {
				return nil, fmt.Errorf("copiando la tabla %s: %w", t.Name, err)
			}
			m.Tables = append(m.Tables, *bt)
		}
		after, err := readStamp(ctx, e)
		if err != nil {
			return nil, err
		}
		m.Stamp, m.Attempts = after, attempt
		if before == after {
			break
		}
		if attempt >= o.Attempts {
			return nil, fmt.Errorf("el ETL confirmó cargas durante cada uno de los %d intentos de copia; repita la copia fuera del horario de los trabajos", attempt)
		}
		log.Warn("copia de seguridad: el ETL confirmó una carga mientras se copiaba; se copia de nuevo", "intento", attempt, "antes", before, "despues", after)
	}
	m.Seconds = time.Since(start).Seconds()
	if err := writeManifest(tmp, m); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "LEEME.txt"), []byte(readme(m)), 0o644); err != nil {
		return nil, err
	}
	if err := syncDir(tmp); err != nil {
		return nil, err
	}
	os.Remove(dir) // empty, checked above
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	done = true
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return nil, err
	}
	m.Seconds = time.Since(start).Seconds()
	return m, nil
}

// checkNewDir accepts a path that does not exist or is an empty folder:
// a backup never overwrites another.
func checkNewDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("carpeta de la copia %s: %w", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("la carpeta %s ya existe y no está vacía: una copia nunca se escribe sobre otra", dir)
	}
	return nil
}

// foreignTables lists tables of the database that the schema does not
// create (in cluster mode, the _local shards of schema tables are the
// schema's).
func foreignTables(ctx context.Context, e Engine, schema []SchemaTable, cluster string) ([]string, error) {
	res, err := e.Query(ctx, "SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name", P("db", e.Database()))
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, t := range schema {
		known[t.Name] = true
		if cluster != "" {
			known[t.Name+"_local"] = true
		}
	}
	present := map[string]bool{}
	var out []string
	for _, r := range res.Rows {
		n := r[0].(string)
		present[n] = true
		if !known[n] {
			out = append(out, n)
		}
	}
	for _, t := range schema {
		if !present[t.Name] {
			return nil, fmt.Errorf("falta la tabla %s del esquema en el almacén", t.Name)
		}
	}
	return out, nil
}

// exportTable writes one table's file: the engine's Native output, counted
// and checked block by block while it is compressed and hashed.
func exportTable(ctx context.Context, e Engine, dir string, t SchemaTable, compression string) (*BackupTable, error) {
	start := time.Now()
	cols, err := describe(ctx, e, t.Name)
	if err != nil {
		return nil, err
	}
	bt := &BackupTable{Name: t.Name, File: t.Name + ".native", Final: t.Merges, Columns: cols}
	if compression == "zstd" {
		bt.File += ".zst"
	}
	f, err := os.Create(filepath.Join(dir, bt.File))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	hash := sha256.New()
	stored := &countingWriter{w: io.MultiWriter(f, hash)}
	var sink io.Writer = stored
	var enc *zstd.Encoder
	if compression == "zstd" {
		enc, err = zstd.NewWriter(stored, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(2))
		if err != nil {
			return nil, err
		}
		sink = enc
	}
	// The scanner reads what the engine writes through a pipe, in step.
	pr, pw := io.Pipe()
	type scanned struct {
		rows uint64
		err  error
	}
	scan := make(chan scanned, 1)
	go func() {
		rows, err := nativeScan(pr, asColumns(cols))
		if err == nil {
			// Anything after the last block would be garbage.
			if n, _ := io.Copy(io.Discard, pr); n > 0 {
				err = fmt.Errorf("%d bytes sobrantes tras el último bloque", n)
			}
		}
		pr.CloseWithError(err)
		scan <- scanned{rows, err}
	}()
	raw := &countingWriter{w: io.MultiWriter(sink, pw)}
	sql := "SELECT " + columnList(asColumns(cols)) + " FROM " + quoteIdent(e.Database()) + "." + quoteIdent(t.Name)
	if t.Merges {
		sql += " FINAL"
	}
	err = e.Stream(ctx, raw, "Native", sql)
	pw.CloseWithError(err)
	sc := <-scan
	if err != nil {
		return nil, err
	}
	if sc.err != nil {
		return nil, fmt.Errorf("la salida Native del motor no es válida: %w", sc.err)
	}
	if enc != nil {
		if err := enc.Close(); err != nil {
			return nil, err
		}
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	bt.Rows, bt.RawBytes, bt.Bytes = sc.rows, raw.n, stored.n
	bt.SHA256 = hex.EncodeToString(hash.Sum(nil))
	bt.Seconds = time.Since(start).Seconds()
	return bt, f.Close()
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func writeManifest(dir string, m *BackupManifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, ManifestFile))
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func readme(m *BackupManifest) string {
	compressed := ""
	if m.Compression == "zstd" {
		compressed = ", comprimidos con zstd"
	}
	return fmt.Sprintf(`Copia de seguridad del Observatorio (%s)

Creada el %s (UTC) desde el motor %s %s, base de datos %s.
%d tablas, %s filas. El manifiesto (%s) lista cada archivo con su número de
filas, su tamaño y su suma SHA-256; los datos están en el formato Native de
ClickHouse%s.

Comprobar la copia sin tocar ningún almacén:
    observatory backup verify --from ESTA_CARPETA
Restaurar en un almacén vacío (embebido o servidor):
    observatory restore --config ARCHIVO.yaml --from ESTA_CARPETA
`, m.Format, m.Created.Format("2006-01-02 15:04:05"), m.Engine, m.EngineVersion, m.Database,
		len(m.Tables), formato.Number(int64(m.TotalRows())), ManifestFile, compressed)
}

// ReadManifest reads and checks a backup folder's manifest.
func ReadManifest(dir string) (*BackupManifest, error) {
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s no existe: la carpeta no es una copia de seguridad completa del observatorio", path)
		}
		return nil, err
	}
	var m BackupManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s está dañado: %v", path, err)
	}
	if m.Format != BackupFormat {
		return nil, fmt.Errorf("%s: formato de copia %q desconocido (este binario lee %s)", path, m.Format, BackupFormat)
	}
	if m.DataFormat != "Native" {
		return nil, fmt.Errorf("%s: formato de datos %q desconocido", path, m.DataFormat)
	}
	seen := map[string]bool{}
	for _, t := range m.Tables {
		if !validIdent(t.Name) || t.File != filepath.Base(t.File) || t.File == "" || seen[t.Name] {
			return nil, fmt.Errorf("%s: entrada de tabla inválida %q (%q)", path, t.Name, t.File)
		}
		seen[t.Name] = true
		for _, c := range t.Columns {
			if !validIdent(c.Name) || !validType(c.Type) {
				return nil, fmt.Errorf("%s: columna inválida %q %q en %s", path, c.Name, c.Type, t.Name)
			}
		}
	}
	return &m, nil
}

// VerifyOptions configure VerifyBackup.
type VerifyOptions struct {
	// Deep also decompresses every file and counts its rows block by block.
	Deep bool
}

// VerifyBackup checks every file of a backup against its manifest: present,
// of the recorded size and SHA-256 (and, when deep, with the recorded number
// of rows). The error names the first file that differs.
func VerifyBackup(dir string, m *BackupManifest, o VerifyOptions) error {
	for _, t := range m.Tables {
		path := filepath.Join(dir, t.File)
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("copia incompleta: falta el archivo %s (tabla %s)", path, t.Name)
			}
			return err
		}
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("leyendo %s: %w", path, err)
		}
		if n != t.Bytes {
			return fmt.Errorf("copia dañada: el archivo %s mide %d bytes y el manifiesto dice %d (tabla %s)", path, n, t.Bytes, t.Name)
		}
		if sum := hex.EncodeToString(h.Sum(nil)); sum != t.SHA256 {
			return fmt.Errorf("copia dañada: la suma SHA-256 del archivo %s (%.16s…) no es la del manifiesto (%.16s…) (tabla %s)", path, sum, t.SHA256, t.Name)
		}
		if o.Deep {
			r, err := openNative(path, m.Compression)
			if err != nil {
				return err
			}
			rows, err := nativeScan(r, asColumns(t.Columns))
			r.Close()
			if err != nil {
				return fmt.Errorf("copia dañada: %s: %w", path, err)
			}
			if rows != t.Rows {
				return fmt.Errorf("copia dañada: el archivo %s tiene %d filas y el manifiesto dice %d", path, rows, t.Rows)
			}
		}
	}
	return nil
}

// checkRestorable accepts a backup whose migrations are those of this
// binary or an earlier prefix of them (the restore then migrates the rest).
func checkRestorable(m *BackupManifest) error {
	migs, err := Migrations()
	if err != nil {
		return err
	}
	byVersion := map[int]Migration{}
	for _, x := range migs {
		byVersion[x.Version] = x
	}
	for _, b := range m.Migrations {
		x, ok := byVersion[b.Version]
		if !ok {
			return fmt.Errorf("la copia viene de un esquema más nuevo que este binario (migración %04d_%s): restáurela con la versión del observatorio que la hizo", b.Version, b.Name)
		}
		if x.Checksum != b.Checksum {
			return fmt.Errorf("la migración %04d_%s de la copia (suma %.12s…) no es la de este binario (%.12s…): restáurela con la versión del observatorio que la hizo", b.Version, b.Name, b.Checksum, x.Checksum)
		}
	}
	return nil
}

// RestoreOptions configure Restore.
type RestoreOptions struct {
	// Dir is the backup folder.
	Dir string
	// Cluster is the target warehouse's cluster ("" on one node).
	Cluster string
	// Force empties a warehouse that has rows before loading the copy;
	// without it such a warehouse is refused.
	Force bool
	Log   *slog.Logger
}

// RestoreReport says what Restore did.
type RestoreReport struct {
	Manifest *BackupManifest
	Tables   []RestoredTable
	Emptied  []string // tables that had rows and were emptied (Force)
	Seconds  float64
}

// RestoredTable is one loaded table.
type RestoredTable struct {
	Name    string
	Rows    uint64
	Seconds float64
}

// Restore loads a backup into a warehouse: it checks the files against the
// manifest and the manifest's migrations against this binary before
// touching anything, migrates the warehouse, refuses it if it holds rows
// (unless Force, which empties it), loads every table and checks that each
// has the manifest's row count.
func Restore(ctx context.Context, e Engine, o RestoreOptions) (*RestoreReport, error) {
	start := time.Now()
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	loader, ok := beneath[nativeLoader](e)
	if !ok {
		return nil, fmt.Errorf("el motor %s no admite restauraciones", e.Kind())
	}
	m, err := ReadManifest(o.Dir)
	if err != nil {
		return nil, err
	}
	if err := VerifyBackup(o.Dir, m, VerifyOptions{}); err != nil {
		return nil, err
	}
	if err := checkRestorable(m); err != nil {
		return nil, err
	}
	if _, err := Migrate(ctx, e, o.Cluster); err != nil {
		return nil, err
	}
	schema, err := Schema()
	if err != nil {
		return nil, err
	}
	inSchema := map[string]bool{}
	for _, t := range schema {
		inSchema[t.Name] = true
	}
	for _, t := range m.Tables {
		if !inSchema[t.Name] {
			return nil, fmt.Errorf("la tabla %s de la copia no existe en el esquema de este binario", t.Name)
		}
		have, err := describe(ctx, e, t.Name)
		if err != nil {
			return nil, err
		}
		types := map[string]string{}
		for _, c := range have {
			types[c.Name] = c.Type
		}
		for _, c := range t.Columns {
			if types[c.Name] != c.Type {
				return nil, fmt.Errorf("la columna %s.%s es %s en la copia y %q en el almacén", t.Name, c.Name, c.Type, types[c.Name])
			}
		}
	}
	rep := &RestoreReport{Manifest: m}
	// schema_migrations was just written by Migrate (and is replaced by the
	// copy's below); every other table must be empty before loading.
	var full []string
	for _, t := range schema {
		if t.Name == "schema_migrations" {
			continue
		}
		n, err := countRows(ctx, e, t.Name)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			full = append(full, fmt.Sprintf("%s (%s filas)", t.Name, formato.Number(int64(n))))
			rep.Emptied = append(rep.Emptied, t.Name)
		}
	}
	if len(full) > 0 && !o.Force {
		list := strings.Join(full[:min(len(full), 4)], ", ")
		if len(full) > 4 {
			list += fmt.Sprintf(" y %d tablas más", len(full)-4)
		}
		return nil, fmt.Errorf("el almacén de destino (%s, base de datos %s) no está vacío: %s. Restaure en un almacén nuevo o use --force para vaciarlo y reemplazar su contenido",
			e.Kind(), e.Database(), list)
	}
	for _, name := range rep.Emptied {
		log.Warn("restauración: se vacía la tabla", "tabla", name)
		if err := truncate(ctx, e, name, o.Cluster); err != nil {
			return nil, fmt.Errorf("vaciando %s: %w", name, err)
		}
	}
	settings := map[string]string{}
	if o.Cluster != "" {
		settings["insert_distributed_sync"] = "1"
	}
	for _, t := range loadOrder(m.Tables) {
		if t.Rows == 0 {
			continue
		}
		ts := time.Now()
		if t.Name == "schema_migrations" {
			// Migrate recorded the migrations as applied now; the copy's rows
			// say when they really were. Replace them, and record as new only
			// the migrations this binary has beyond the copy's.
			if err := truncate(ctx, e, t.Name, o.Cluster); err != nil {
				return nil, err
			}
		}
		if err := loader.loadNative(ctx, t.Name, asColumns(t.Columns), filepath.Join(absDir(o.Dir), t.File), m.Compression, settings); err != nil {
			return nil, fmt.Errorf("cargando %s (%s): %w", t.Name, t.File, err)
		}
		n, err := countRows(ctx, e, t.Name)
		if err != nil {
			return nil, err
		}
		if n != t.Rows {
			return nil, fmt.Errorf("la tabla %s quedó con %d filas y la copia tiene %d", t.Name, n, t.Rows)
		}
		if t.Name == "schema_migrations" {
			if err := recordNewer(ctx, e, m.Migrations); err != nil {
				return nil, err
			}
		}
		if t.Final && FinalPerPartition(e) {
			// The restore writes a table in many parts; where FINAL reads
			// partition by partition, the partitions are merged as an ETL
			// commit leaves them, or the first publication would merge
			// every part's stream at each read (2.4 GB at ten million
			// liquidations).
			if err := MergeSplitPartitions(ctx, e, t.Name); err != nil {
				return nil, fmt.Errorf("fusionando las particiones de %s: %w", t.Name, err)
			}
		}
		rep.Tables = append(rep.Tables, RestoredTable{Name: t.Name, Rows: n, Seconds: time.Since(ts).Seconds()})
		log.Info("restauración: tabla cargada", "tabla", t.Name, "filas", n)
	}
	applied, err := appliedMigrations(ctx, e)
	if err != nil {
		return nil, err
	}
	if err := checkSameSchema(applied); err != nil {
		return nil, fmt.Errorf("después de restaurar: %w", err)
	}
	forgetTypes(e)
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// recordNewer records the binary's migrations that the copy does not have
// (their tables were created by Migrate before the copy was loaded).
func recordNewer(ctx context.Context, e Engine, have []BackupMigration) error {
	migs, err := Migrations()
	if err != nil {
		return err
	}
	in := map[int]bool{}
	for _, h := range have {
		in[h.Version] = true
	}
	now := time.Now().UTC().Truncate(time.Second)
	var rows [][]any
	for _, x := range migs {
		if !in[x.Version] {
			rows = append(rows, []any{x.Version, x.Name, x.Checksum, now})
		}
	}
	return e.Insert(ctx, "schema_migrations", []string{"version", "name", "checksum", "applied_at"}, rows)
}

func absDir(d string) string {
	if a, err := filepath.Abs(d); err == nil {
		return a
	}
	return d
}

// loadOrder puts the record tables last, in the reverse of their export
// order.
func loadOrder(ts []BackupTable) []BackupTable {
	var out []BackupTable
	for _, t := range ts {
		if !isRecord(t.Name) {
			out = append(out, t)
		}
	}
	var recs []BackupTable
	for _, t := range ts {
		if isRecord(t.Name) {
			recs = append(recs, t)
		}
	}
	sort.SliceStable(recs, func(i, j int) bool { return recordRank(recs[i].Name) > recordRank(recs[j].Name) })
	return append(out, recs...)
}

func recordRank(name string) int {
	for i, r := range recordTables {
		if r == name {
			return i
		}
	}
	return -1
}

func countRows(ctx context.Context, e Engine, table string) (uint64, error) {
	res, err := e.Query(ctx, "SELECT count() FROM "+quoteIdent(e.Database())+"."+quoteIdent(table))
	if err != nil {
		return 0, err
	}
	return res.Rows[0][0].(uint64), nil
}

// truncate empties a table; on a cluster, its shards.
func truncate(ctx context.Context, e Engine, table, cluster string) error {
	if cluster == "" {
		return e.Exec(ctx, "TRUNCATE TABLE "+quoteIdent(e.Database())+"."+quoteIdent(table))
	}
	return e.Exec(ctx, fmt.Sprintf("TRUNCATE TABLE %s.%s ON CLUSTER %s", quoteIdent(e.Database()), quoteIdent(table+"_local"), quoteIdent(cluster)))
}
