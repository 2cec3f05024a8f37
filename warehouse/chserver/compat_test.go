package chserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/shopspring/decimal"
)

// The compatibility matrix of COMPAT.md. Each case runs its setup
// statements (which must succeed), then its check, over HTTP against a
// fresh server. On ClickHouse 18.16 the result must match want18 (so that
// the matrix stays true); on any other server the matrix is only logged.
// `go test -run TestCompat -v ./warehouse/chserver` prints it as Markdown.

type compatCase struct {
	area, name string
	setup      []string
	query      string
	params     url.Values
	want       string // substring the output must contain ("" = any)
	want18     bool
}

func sv(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

var compatCases = []compatCase{
	// ---- types
	{area: "tipos", name: "Decimal(18,2) sin ningún setting", setup: []string{"CREATE TABLE c.dec (v Decimal(18, 2)) ENGINE = Memory", "INSERT INTO c.dec VALUES (1.50), (2.25)"}, query: "SELECT sum(v), toTypeName(sum(v)) FROM c.dec", want: "3.75\tDecimal(38, 2)", want18: true},
	{area: "tipos", name: "allow_experimental_decimal_type (ya no hace falta; el setting no existe en 18.16)", query: "SELECT 1 SETTINGS allow_experimental_decimal_type = 1", want18: false},
	{area: "tipos", name: "Decimal como texto conserva ceros (1.50; servidores ≥21.9 escriben 1.5)", query: "SELECT toDecimal64('1.50', 2)", want: "1.50", want18: true},
	{area: "tipos", name: "LowCardinality(String) sin setting", query: "CREATE TABLE c.lc1 (s LowCardinality(String)) ENGINE = Memory", want18: false},
	{area: "tipos", name: "LowCardinality(String) con allow_experimental_low_cardinality_type=1", setup: []string{"CREATE TABLE c.lc2 (s LowCardinality(String)) ENGINE = MergeTree ORDER BY tuple() SETTINGS index_granularity = 8192"}, query: "INSERT INTO c.lc2 VALUES ('a'), ('b'), ('a')", params: sv("allow_experimental_low_cardinality_type", "1"), want18: true},
	{area: "tipos", name: "Nullable(String) y Nullable(Decimal)", setup: []string{"CREATE TABLE c.nul (s Nullable(String), d Nullable(Decimal(18, 2))) ENGINE = Memory", "INSERT INTO c.nul VALUES (NULL, NULL), ('x', 1.5)"}, query: "SELECT countIf(s IS NULL), count(d) FROM c.nul", want: "1\t1", want18: true},
	{area: "tipos", name: "DateTime64(3)", query: "SELECT toDateTime64('2024-01-01 00:00:00.123', 3)", want18: false},
	{area: "tipos", name: "DateTime('America/Bogota') en una columna", setup: []string{"CREATE TABLE c.tz (t DateTime('America/Bogota')) ENGINE = Memory", "INSERT INTO c.tz VALUES ('2024-01-01 00:00:00')"}, query: "SELECT toUnixTimestamp(t) FROM c.tz", want: "1704085200", want18: true},
	{area: "tipos", name: "Date, DateTime, toDate/toDateTime", query: "SELECT toDate('2024-02-29'), toDateTime('2024-02-29 23:59:59')", want: "2024-02-29\t2024-02-29 23:59:59", want18: true},
	{area: "tipos", name: "UUID, Enum8, FixedString, Array, Tuple", query: "SELECT toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0'), CAST('b' AS Enum8('a' = 1, 'b' = 2)), toFixedString('ab', 2), [1, 2], (1, 'x')", want18: true},
	{area: "tipos", name: "Map(String, String)", query: "CREATE TABLE c.map (m Map(String, String)) ENGINE = Memory", want18: false},
	{area: "tipos", name: "Bool", query: "CREATE TABLE c.bool (b Bool) ENGINE = Memory", want18: false},
	{area: "tipos", name: "IPv4", query: "SELECT toIPv4('10.0.0.1')", want18: false},
	{area: "tipos", name: "Int128/UInt256", query: "SELECT toInt128(1)", want18: false},
	{area: "tipos", name: "Nested", query: "CREATE TABLE c.nest (n Nested(a String, b UInt8)) ENGINE = Memory", want18: true},

	// ---- engines and DDL
	{area: "DDL", name: "CREATE DATABASE IF NOT EXISTS", query: "CREATE DATABASE IF NOT EXISTS c", want18: true},
	{area: "DDL", name: "CREATE DATABASE ... ENGINE = Atomic", query: "CREATE DATABASE c_atomic ENGINE = Atomic", want18: false},
	{area: "DDL", name: "CREATE DATABASE ... ENGINE = Ordinary", query: "CREATE DATABASE c_ordinary ENGINE = Ordinary", want18: true},
	{area: "DDL", name: "CREATE TABLE IF NOT EXISTS (dos veces)", setup: []string{"CREATE TABLE IF NOT EXISTS c.ine (a UInt8) ENGINE = Memory"}, query: "CREATE TABLE IF NOT EXISTS c.ine (a UInt8) ENGINE = Memory", want18: true},
	{area: "DDL", name: "ENGINE = MergeTree() PARTITION BY ... ORDER BY ... SETTINGS", query: "CREATE TABLE c.mt1 (d Date, k String, v UInt64) ENGINE = MergeTree() PARTITION BY toYYYYMM(d) ORDER BY (k, d) SETTINGS index_granularity = 8192", want18: true},
	{area: "DDL", name: "ENGINE = MergeTree ORDER BY (sin paréntesis tras MergeTree)", query: "CREATE TABLE c.mt2 (k String) ENGINE = MergeTree ORDER BY k", want18: true},
	{area: "DDL", name: "ORDER BY tuple()", query: "CREATE TABLE c.mt3 (k String) ENGINE = MergeTree ORDER BY tuple()", want18: true},
	{area: "DDL", name: "PRIMARY KEY distinta (prefijo) de ORDER BY", query: "CREATE TABLE c.mt4 (a UInt8, b UInt8) ENGINE = MergeTree PRIMARY KEY a ORDER BY (a, b)", want18: true},
	{area: "DDL", name: "SAMPLE BY", query: "CREATE TABLE c.mt5 (a UInt64) ENGINE = MergeTree ORDER BY intHash32(a) SAMPLE BY intHash32(a)", want18: true},
	{area: "DDL", name: "sintaxis antigua MergeTree(fecha, (clave), 8192)", query: "CREATE TABLE c.mt6 (d Date, a UInt8) ENGINE = MergeTree(d, (a), 8192)", want18: true},
	{area: "DDL", name: "MergeTree sin columna Date (PARTITION BY tuple() implícito)", query: "CREATE TABLE c.mt7 (a UInt8) ENGINE = MergeTree ORDER BY a", want18: true},
	{area: "DDL", name: "TTL de tabla", query: "CREATE TABLE c.ttl (d Date) ENGINE = MergeTree ORDER BY d TTL d + INTERVAL 1 MONTH", want18: false},
	{area: "DDL", name: "CODEC(ZSTD)", query: "CREATE TABLE c.codec (a UInt64 CODEC(ZSTD)) ENGINE = MergeTree ORDER BY a", want18: false},
	{area: "DDL", name: "columnas DEFAULT / MATERIALIZED / ALIAS", query: "CREATE TABLE c.def (a UInt8, b UInt8 DEFAULT a + 1, m UInt8 MATERIALIZED a * 2, al UInt8 ALIAS a) ENGINE = MergeTree ORDER BY a", want18: true},
	{area: "DDL", name: "COMMENT en columna", query: "CREATE TABLE c.com (a UInt8 COMMENT 'x') ENGINE = MergeTree ORDER BY a", want18: true},
	{area: "DDL", name: "ReplacingMergeTree(version) + SELECT ... FINAL", setup: []string{"CREATE TABLE c.rep (k String, v UInt32, ver UInt64) ENGINE = ReplacingMergeTree(ver) ORDER BY k", "INSERT INTO c.rep VALUES ('a', 1, 1)", "INSERT INTO c.rep VALUES ('a', 2, 2)"}, query: "SELECT k, v FROM c.rep FINAL", want: "a\t2\n", want18: true},
	{area: "DDL", name: "ReplacingMergeTree sin versión", query: "CREATE TABLE c.rep0 (k String) ENGINE = ReplacingMergeTree ORDER BY k", want18: true},
	{area: "DDL", name: "SummingMergeTree / AggregatingMergeTree con -State/-Merge", setup: []string{"CREATE TABLE c.agg (k String, u AggregateFunction(uniq, UInt64)) ENGINE = AggregatingMergeTree ORDER BY k", "INSERT INTO c.agg SELECT 'a', uniqState(number) FROM numbers(10)"}, query: "SELECT uniqMerge(u) FROM c.agg", want: "10", want18: true},
	{area: "DDL", name: "CollapsingMergeTree(sign) / VersionedCollapsingMergeTree", query: "CREATE TABLE c.col (k String, s Int8, ver UInt8) ENGINE = VersionedCollapsingMergeTree(s, ver) ORDER BY k", want18: true},
	{area: "DDL", name: "CREATE TABLE ... ENGINE ... AS SELECT", query: "CREATE TABLE c.cas ENGINE = MergeTree ORDER BY n AS SELECT number AS n FROM system.numbers LIMIT 5", want18: true},
	{area: "DDL", name: "CREATE TABLE t2 AS t1 (copia de estructura)", setup: []string{"CREATE TABLE c.src (a UInt8) ENGINE = Memory"}, query: "CREATE TABLE c.src2 AS c.src", want18: true},
	{area: "DDL", name: "CREATE VIEW / MATERIALIZED VIEW ... TO", setup: []string{"CREATE TABLE c.mvsrc (a UInt8) ENGINE = MergeTree ORDER BY a", "CREATE TABLE c.mvdst (a UInt8, n UInt64) ENGINE = SummingMergeTree ORDER BY a", "CREATE VIEW c.v AS SELECT a FROM c.mvsrc", "CREATE MATERIALIZED VIEW c.mv TO c.mvdst AS SELECT a, count() AS n FROM c.mvsrc GROUP BY a", "INSERT INTO c.mvsrc VALUES (1), (1), (2)"}, query: "SELECT sum(n) FROM c.mvdst", want: "3", want18: true},
	{area: "DDL", name: "CREATE OR REPLACE VIEW", query: "CREATE OR REPLACE VIEW c.v2 AS SELECT 1", want18: false},
	{area: "DDL", name: "ALTER TABLE ADD COLUMN", setup: []string{"CREATE TABLE c.alt (a UInt8) ENGINE = MergeTree ORDER BY a"}, query: "ALTER TABLE c.alt ADD COLUMN b String DEFAULT 'x' AFTER a", want18: true},
	{area: "DDL", name: "ALTER TABLE ADD COLUMN IF NOT EXISTS", setup: []string{"CREATE TABLE c.alt2 (a UInt8) ENGINE = MergeTree ORDER BY a"}, query: "ALTER TABLE c.alt2 ADD COLUMN IF NOT EXISTS a UInt8", want18: false},
	{area: "DDL", name: "ALTER TABLE DROP COLUMN IF EXISTS", setup: []string{"CREATE TABLE c.alt3 (a UInt8) ENGINE = MergeTree ORDER BY a"}, query: "ALTER TABLE c.alt3 DROP COLUMN IF EXISTS b", want18: false},
	{area: "DDL", name: "ALTER TABLE MODIFY COLUMN (cambio de tipo)", setup: []string{"CREATE TABLE c.alt4 (a UInt8, b UInt8) ENGINE = MergeTree ORDER BY a", "INSERT INTO c.alt4 VALUES (1, 2)"}, query: "ALTER TABLE c.alt4 MODIFY COLUMN b UInt32", want18: true},
	{area: "DDL", name: "ALTER TABLE RENAME COLUMN", setup: []string{"CREATE TABLE c.alt5 (a UInt8, b UInt8) ENGINE = MergeTree ORDER BY a"}, query: "ALTER TABLE c.alt5 RENAME COLUMN b TO c", want18: false},
	{area: "DDL", name: "ALTER TABLE DELETE / UPDATE (mutaciones)", setup: []string{"CREATE TABLE c.mut (a UInt8, b String) ENGINE = MergeTree ORDER BY a", "INSERT INTO c.mut VALUES (1, 'x'), (2, 'y')", "ALTER TABLE c.mut DELETE WHERE a = 1"}, query: "ALTER TABLE c.mut UPDATE b = 'z' WHERE a = 2", want18: true},
	{area: "DDL", name: "ALTER TABLE DROP PARTITION", setup: []string{"CREATE TABLE c.part (d Date) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY d", "INSERT INTO c.part VALUES ('2024-01-05')"}, query: "ALTER TABLE c.part DROP PARTITION 202401", want18: true},
	{area: "DDL", name: "OPTIMIZE TABLE ... FINAL (local)", setup: []string{"CREATE TABLE c.opt (a UInt8) ENGINE = ReplacingMergeTree ORDER BY a", "INSERT INTO c.opt VALUES (1)", "INSERT INTO c.opt VALUES (1)"}, query: "OPTIMIZE TABLE c.opt FINAL", want18: true},
	{area: "DDL", name: "TRUNCATE TABLE", setup: []string{"CREATE TABLE c.tru (a UInt8) ENGINE = MergeTree ORDER BY a"}, query: "TRUNCATE TABLE c.tru", want18: true},
	{area: "DDL", name: "RENAME TABLE", setup: []string{"CREATE TABLE c.ren (a UInt8) ENGINE = Memory"}, query: "RENAME TABLE c.ren TO c.ren2", want18: true},
	{area: "DDL", name: "EXCHANGE TABLES", setup: []string{"CREATE TABLE c.ex1 (a UInt8) ENGINE = Memory", "CREATE TABLE c.ex2 (a UInt8) ENGINE = Memory"}, query: "EXCHANGE TABLES c.ex1 AND c.ex2", want18: false},
	{area: "DDL", name: "DROP TABLE IF EXISTS", query: "DROP TABLE IF EXISTS c.no_existe", want18: true},
	{area: "DDL", name: "DROP TABLE ... SYNC", setup: []string{"CREATE TABLE c.dsync (a UInt8) ENGINE = Memory"}, query: "DROP TABLE c.dsync SYNC", want18: false},
	{area: "DDL", name: "EXISTS TABLE / SHOW CREATE TABLE / DESCRIBE", setup: []string{"CREATE TABLE c.ex (a UInt8) ENGINE = Memory", "SHOW CREATE TABLE c.ex", "DESCRIBE TABLE c.ex"}, query: "EXISTS TABLE c.ex", want: "1", want18: true},

	// ---- queries and functions
	{area: "consultas", name: "INSERT ... SELECT", setup: []string{"CREATE TABLE c.ins (n UInt64) ENGINE = MergeTree ORDER BY n", "INSERT INTO c.ins SELECT number FROM system.numbers LIMIT 100"}, query: "SELECT count() FROM c.ins", want: "100", want18: true},
	{area: "consultas", name: "toStartOfMonth, toYYYYMM, toMonday, toStartOfYear, addMonths", query: "SELECT toStartOfMonth(toDate('2024-03-15')), toYYYYMM(toDate('2024-03-15')), toMonday(toDate('2024-03-15')), toStartOfYear(toDate('2024-03-15')), addMonths(toDate('2024-01-31'), 1)", want: "2024-03-01\t202403\t2024-03-11\t2024-01-01\t2024-02-29", want18: true},
	{area: "consultas", name: "formatDateTime", query: "SELECT formatDateTime(toDateTime('2024-03-15 10:20:30'), '%Y-%m-%d %H:%M:%S')", want: "2024-03-15 10:20:30", want18: true},
	{area: "consultas", name: "parseDateTimeBestEffort", query: "SELECT parseDateTimeBestEffort('2024-03-15T10:20:30Z')", want: "2024-03-15 10:20:30", want18: true},
	{area: "consultas", name: "dateDiff", query: "SELECT dateDiff('day', toDate('2024-01-01'), toDate('2024-03-01'))", want: "60", want18: true},
	{area: "consultas", name: "argMax, uniqExact, uniq, quantile, quantileExact, median", query: "SELECT argMax(number, number), uniqExact(number % 10), uniq(number % 10), quantile(0.5)(number), quantileExact(0.5)(number), median(number) FROM numbers(100)", want: "99\t10\t10\t", want18: true},
	{area: "consultas", name: "función de tabla numbers(N)", query: "SELECT count() FROM numbers(10)", want: "10", want18: true},
	{area: "consultas", name: "countIf, sumIf, avgIf, groupArray, groupUniqArray, topK, any, anyLast", query: "SELECT countIf(n > 5), sumIf(n, n > 5), avgIf(n, n > 5), groupArray(n), groupUniqArray(n % 2), topK(1)(n % 2), any(n), anyLast(n) FROM (SELECT number AS n FROM system.numbers LIMIT 10)", want18: true},
	{area: "consultas", name: "arrayJoin, ARRAY JOIN, arrayMap/arrayFilter con lambdas, has", query: "SELECT arrayJoin([1, 2, 3]) AS x, arrayMap(y -> y * 2, [x]), arrayFilter(y -> y > 1, [x]), has([1, 2], x)", want18: true},
	{area: "consultas", name: "LIMIT BY seguido de LIMIT n OFFSET m", query: "SELECT number % 3 AS k, number FROM numbers(30) ORDER BY k, number LIMIT 1 BY k LIMIT 2 OFFSET 1", want18: false},
	{area: "consultas", name: "LIMIT BY (en subconsulta) y LIMIT m, n", query: "SELECT k, n FROM (SELECT number % 3 AS k, number AS n FROM numbers(30)) ORDER BY k, n LIMIT 1 BY k LIMIT 1, 2", want: "1\t1\n2\t2\n", want18: true},
	{area: "consultas", name: "LIMIT n OFFSET m", query: "SELECT number FROM system.numbers LIMIT 2 OFFSET 3", want: "3\n4\n", want18: true},
	{area: "consultas", name: "GROUP BY ... WITH TOTALS", query: "SELECT number % 2 AS k, count() FROM (SELECT number FROM system.numbers LIMIT 10) GROUP BY k WITH TOTALS", want18: true},
	{area: "consultas", name: "GROUP BY ... WITH ROLLUP", query: "SELECT number % 2 AS k, count() FROM numbers(10) GROUP BY k WITH ROLLUP", want18: true},
	{area: "consultas", name: "GROUP BY ... WITH CUBE", query: "SELECT number % 2 AS k, count() FROM numbers(10) GROUP BY k WITH CUBE", want18: true},
	{area: "consultas", name: "ORDER BY ... WITH FILL", query: "SELECT number AS n FROM numbers(3) ORDER BY n WITH FILL", want18: false},
	{area: "consultas", name: "WITH expresión AS alias (escalar)", query: "WITH 2 AS dos SELECT dos * 3", want: "6", want18: true},
	{area: "consultas", name: "WITH nombre AS (SELECT ...) — CTE", query: "WITH t AS (SELECT 1 AS x) SELECT x FROM t", want18: false},
	{area: "consultas", name: "funciones de ventana (OVER)", query: "SELECT number, row_number() OVER (ORDER BY number) FROM (SELECT number FROM system.numbers LIMIT 3)", want18: false},
	{area: "consultas", name: "ILIKE", query: "SELECT 'Caquetá' ILIKE 'caq%'", want18: false},
	{area: "consultas", name: "LIKE, lowerUTF8, positionCaseInsensitiveUTF8, replaceRegexpAll, splitByChar", query: "SELECT lowerUTF8('CAQUETÁ') LIKE 'caq%', positionCaseInsensitiveUTF8('Florencia', 'REN'), replaceRegexpAll('a-b-c', '-', '_'), splitByChar(',', 'a,b')", want: "1\t4\ta_b_c\t['a','b']", want18: true},
	{area: "consultas", name: "trim(BOTH ' ' FROM s) SQL estándar", query: "SELECT trim(BOTH ' ' FROM '  y  ')", want18: false},
	{area: "consultas", name: "trimBoth / trimLeft / trimRight (ninguna existe en 18.16)", query: "SELECT trimBoth('  x  ')", want18: false},
	{area: "consultas", name: "recorte con replaceRegexpAll(s, '^\\s+|\\s+$', '')", query: `SELECT concat('[', replaceRegexpAll('  x  ', '^\\s+|\\s+$', ''), ']')`, want: "[x]", want18: true},
	{area: "consultas", name: "if, multiIf, CASE, coalesce, ifNull, nullIf", query: "SELECT if(1, 'a', 'b'), multiIf(0, 'a', 1, 'b', 'c'), CASE WHEN 1 THEN 'x' ELSE 'y' END, coalesce(NULL, 2), ifNull(NULL, 3), nullIf(1, 1)", want18: true},
	{area: "consultas", name: "CAST('3.14' AS Decimal(18,2)), toDecimal64(2.5, 2) * 2, Decimal / entero, round", query: "SELECT CAST('3.14' AS Decimal(18, 2)), toDecimal64(2.5, 2) * 2, toDecimal64('2.5', 2) / 3, round(2.345, 2)", want: "3.14\t5.00\t0.83\t2.35", want18: true},
	{area: "consultas", name: "CAST('3.14159' AS Decimal(18,2)) (más decimales que la escala)", query: "SELECT CAST('3.14159' AS Decimal(18, 2))", want18: false},
	{area: "consultas", name: "Decimal + Float64", query: "SELECT toDecimal64('2.5', 2) + 1.5", want18: false},
	{area: "consultas", name: "visitParamExtractString (JSON simple)", query: `SELECT visitParamExtractString('{"a":"b"}', 'a')`, want: "b", want18: true},
	{area: "consultas", name: "JSONExtractString", query: `SELECT JSONExtractString('{"a":"b"}', 'a')`, want18: false},
	{area: "consultas", name: "JOIN ... ON con ANY LEFT / ALL INNER", setup: []string{"CREATE TABLE c.j1 (k UInt8, a String) ENGINE = Memory", "CREATE TABLE c.j2 (k UInt8, b String) ENGINE = Memory", "INSERT INTO c.j1 VALUES (1, 'x'), (2, 'y')", "INSERT INTO c.j2 VALUES (1, 'z')", "SELECT a, b FROM c.j1 ALL INNER JOIN c.j2 USING k"}, query: "SELECT a, b FROM c.j1 ANY LEFT JOIN c.j2 ON j1.k = j2.k ORDER BY a", want18: true},
	{area: "consultas", name: "LEFT JOIN sin ANY/ALL (join_default_strictness)", setup: []string{"CREATE TABLE c.j3 (k UInt8) ENGINE = Memory", "CREATE TABLE c.j4 (k UInt8) ENGINE = Memory"}, query: "SELECT * FROM c.j3 LEFT JOIN c.j4 USING k", want18: true},
	{area: "consultas", name: "varios JOIN en un mismo SELECT", setup: []string{"CREATE TABLE c.m1 (k UInt8) ENGINE = Memory", "CREATE TABLE c.m2 (k UInt8) ENGINE = Memory", "CREATE TABLE c.m3 (k UInt8) ENGINE = Memory"}, query: "SELECT * FROM c.m1 JOIN c.m2 ON m1.k = m2.k JOIN c.m3 ON m2.k = m3.k", want18: false},
	{area: "consultas", name: "IN (subconsulta) con el mismo tipo", query: "SELECT count() FROM numbers(5) WHERE number IN (SELECT toUInt64(1))", want: "1", want18: true},
	{area: "consultas", name: "IN (subconsulta) con otro tipo (UInt64 IN (SELECT 1))", query: "SELECT count() FROM numbers(5) WHERE number IN (SELECT 1)", want18: false},
	{area: "consultas", name: "SELECT ... SETTINGS en la consulta", query: "SELECT 1 SETTINGS max_threads = 1", want18: true},

	// ---- formats and HTTP
	{area: "formatos", name: "FORMAT CSVWithNames", query: "SELECT 1 AS a, 'x' AS b FORMAT CSVWithNames", want: "\"a\",\"b\"\n1,\"x\"\n", want18: true},
	{area: "formatos", name: "FORMAT JSONEachRow (salida)", query: "SELECT 1 AS a, 'x' AS b FORMAT JSONEachRow", want: `{"a":1,"b":"x"}`, want18: true},
	{area: "formatos", name: "FORMAT JSON (con meta y rows)", query: "SELECT 1 AS a FORMAT JSON", want: `"rows": 1`, want18: true},
	{area: "formatos", name: "UInt64 en JSON va entre comillas (output_format_json_quote_64bit_integers=1)", query: "SELECT toUInt64(1) AS a FORMAT JSONEachRow", want: `{"a":"1"}`, want18: true},
	{area: "formatos", name: "FORMAT TSVWithNames / TabSeparatedWithNamesAndTypes", query: "SELECT 1 AS a FORMAT TSVWithNamesAndTypes", want: "a\nUInt8\n1\n", want18: true},
	{area: "formatos", name: "FORMAT Parquet", query: "SELECT 1 AS a FORMAT Parquet", want18: false},
	{area: "formatos", name: "FORMAT CSVWithNamesAndTypes", query: "SELECT 1 AS a FORMAT CSVWithNamesAndTypes", want18: false},
	{area: "formatos", name: "INSERT ... FORMAT JSONEachRow (entrada por HTTP)", setup: []string{"CREATE TABLE c.jer (a UInt8, b String) ENGINE = Memory", "INSERT INTO c.jer FORMAT JSONEachRow {\"a\":1,\"b\":\"x\"} {\"b\":\"y\",\"a\":2}"}, query: "SELECT count() FROM c.jer", want: "2", want18: true},
	{area: "formatos", name: "INSERT ... FORMAT CSVWithNames (entrada; 18.16 salta la cabecera, no la usa)", setup: []string{"CREATE TABLE c.csvn (a UInt8, b String) ENGINE = Memory", "INSERT INTO c.csvn FORMAT CSVWithNames\na,b\n1,x\n2,y\n"}, query: "SELECT sum(a) FROM c.csvn", want: "3", want18: true},
	{area: "formatos", name: "parámetros de consulta {name:Type} con param_ por HTTP", query: "SELECT {x:UInt8} + 1", params: sv("param_x", "41"), want: "42", want18: false},
	{area: "formatos", name: "INSERT ... VALUES por HTTP", setup: []string{"CREATE TABLE c.hv (a UInt8) ENGINE = Memory", "INSERT INTO c.hv VALUES (1), (2)"}, query: "SELECT count() FROM c.hv", want: "2", want18: true},
	{area: "formatos", name: "tablas temporales con session_id", setup: []string{"CREATE TEMPORARY TABLE tmp (a UInt8)"}, query: "SELECT count() FROM tmp", params: sv("session_id", "compat-sesion"), want18: true},

	// ---- system
	{area: "sistema", name: "system.parts (active, rows, bytes_on_disk)", query: "SELECT sum(rows), sum(bytes_on_disk) FROM system.parts WHERE active", want18: true},
	{area: "sistema", name: "system.mutations", query: "SELECT count() FROM system.mutations", want18: true},
	{area: "sistema", name: "SYSTEM FLUSH LOGS", query: "SYSTEM FLUSH LOGS", want18: true},
	{area: "sistema", name: "currentUser()", query: "SELECT currentUser()", want18: false},
	{area: "sistema", name: "timezone(), version(), uptime()", query: "SELECT timezone(), version(), uptime()", want: "UTC", want18: true},
}

func TestCompat(t *testing.T) {
	s := Start(t, Options{})
	v := s.Version()
	is18 := strings.HasPrefix(v, "18.16.")
	t.Logf("servidor ClickHouse %s", v)
	if _, err := s.HTTPQuery("CREATE DATABASE IF NOT EXISTS c", nil); err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n| área | qué | %s | nota |\n|---|---|---|---|\n", v)
	for _, c := range compatCases {
		ok, note := runCompat(s, c)
		mark := "sí"
		if !ok {
			mark = "**no**"
		}
		fmt.Fprintf(&table, "| %s | %s | %s | %s |\n", c.area, strings.ReplaceAll(c.name, "|", "\\|"), mark, note)
		if is18 && ok != c.want18 {
			t.Errorf("%s: en 18.16 se esperaba %v, resultó %v (%s)", c.name, c.want18, ok, note)
		}
	}
	t.Log(table.String())
}

func runCompat(s *Server, c compatCase) (bool, string) {
	for _, q := range c.setup {
		if _, err := s.HTTPQuery(q, c.params); err != nil {
			return false, "preparación: " + shortErr(err)
		}
	}
	out, err := s.HTTPQuery(c.query, c.params)
	if err != nil {
		return false, shortErr(err)
	}
	if c.want != "" && !strings.Contains(out, c.want) {
		return false, fmt.Sprintf("salida %q, se esperaba %q", trunc(out, 80), c.want)
	}
	return true, ""
}

func trunc(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// shortErr keeps "Code: N" and the first sentence of ClickHouse's message.
func shortErr(err error) string {
	msg := err.Error()
	var he *HTTPError
	if errors.As(err, &he) {
		msg = he.Body
	}
	msg = strings.ReplaceAll(strings.TrimSpace(msg), "\n", " ")
	if i := strings.Index(msg, ", e.what()"); i > 0 {
		msg = msg[:i]
	}
	msg = strings.ReplaceAll(msg, "e.displayText() = DB::Exception: ", "")
	msg = strings.ReplaceAll(msg, "|", "\\|")
	return trunc(msg, 140)
}

// TestCompatHTTPAuth: the ways of passing credentials over HTTP.
func TestCompatHTTPAuth(t *testing.T) {
	s := Start(t, Options{})
	is18 := strings.HasPrefix(s.Version(), "18.16.")
	try := func(name string, set func(r *http.Request), want18 bool) {
		r, _ := http.NewRequest(http.MethodPost, "http://"+s.HTTPAddr()+"/", strings.NewReader("SELECT 1"))
		set(r)
		resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: noKeepAlive}).Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ok := resp.StatusCode == 200
		t.Logf("HTTP auth %-40s -> %d", name, resp.StatusCode)
		if is18 && ok != want18 {
			t.Errorf("%s: en 18.16 se esperaba %v", name, want18)
		}
	}
	try("?user=&password= en la URL", func(r *http.Request) {
		r.URL.RawQuery = url.Values{"user": {s.User()}, "password": {s.Password()}}.Encode()
	}, true)
	try("Authorization: Basic", func(r *http.Request) { r.SetBasicAuth(s.User(), s.Password()) }, true)
	try("X-ClickHouse-User / X-ClickHouse-Key", func(r *http.Request) {
		r.Header.Set("X-ClickHouse-User", s.User())
		r.Header.Set("X-ClickHouse-Key", s.Password())
	}, true)
	try("sin credenciales (usuario default inexistente)", func(r *http.Request) {}, false)
}

// TestCompatClickHouseGo: what clickhouse-go v2 (native protocol) can and
// cannot do against the server.
func TestCompatClickHouseGo(t *testing.T) {
	s := Start(t, Options{})
	is18 := strings.HasPrefix(s.Version(), "18.16.")
	ctx := ctxT(t)
	conn := s.Conn(t)
	if err := conn.Exec(ctx, "CREATE TABLE t (a UInt32, b String, n Nullable(String), d Decimal(18, 2), ts DateTime, lc LowCardinality(String)) ENGINE = MergeTree ORDER BY a"); err != nil {
		// LowCardinality needs the experimental setting on 18.16.
		ctx2 := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"allow_experimental_low_cardinality_type": 1}))
		if err := conn.Exec(ctx2, "CREATE TABLE t (a UInt32, b String, n Nullable(String), d Decimal(18, 2), ts DateTime, lc LowCardinality(String)) ENGINE = MergeTree ORDER BY a"); err != nil {
			t.Fatal(err)
		}
		t.Log("LowCardinality: CREATE TABLE necesitó allow_experimental_low_cardinality_type=1")
	}
	check := func(name string, want18 bool, f func(ctx context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		err := f(ctx)
		t.Logf("clickhouse-go: %-55s -> %v", name, err)
		if is18 && (err == nil) != want18 {
			t.Errorf("%s: en 18.16 se esperaba éxito=%v, llegó %v", name, want18, err)
		}
	}
	check("PrepareBatch(\"INSERT INTO t (cols)\") con Nullable, Decimal, DateTime, LowCardinality", true, func(ctx context.Context) error {
		b, err := conn.PrepareBatch(ctx, "INSERT INTO t (a, b, n, d, ts, lc)")
		if err != nil {
			return err
		}
		var nilStr *string
		x := "x"
		if err := b.Append(uint32(1), "uno", nilStr, decimal.RequireFromString("10.05"), time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), "bogotá"); err != nil {
			return err
		}
		if err := b.Append(uint32(2), "dos", &x, decimal.RequireFromString("-3.10"), time.Date(2024, 5, 2, 12, 0, 0, 0, time.UTC), "bogotá"); err != nil {
			return err
		}
		return b.Send()
	})
	check("lectura de Nullable, Decimal, DateTime, LowCardinality", true, func(ctx context.Context) error {
		var (
			n  *string
			d  decimal.Decimal
			ts time.Time
			lc string
		)
		if err := conn.QueryRow(ctx, "SELECT n, d, ts, lc FROM t WHERE a = 2").Scan(&n, &d, &ts, &lc); err != nil {
			return err
		}
		if n == nil || *n != "x" || d.String() != "-3.1" || !ts.Equal(time.Date(2024, 5, 2, 12, 0, 0, 0, time.UTC)) || lc != "bogotá" {
			return fmt.Errorf("leído %v %s %v %q", n, d, ts, lc)
		}
		return nil
	})
	check("PrepareBatch(\"INSERT INTO t\") sin lista de columnas", false, func(ctx context.Context) error {
		b, err := conn.PrepareBatch(ctx, "INSERT INTO t")
		if err != nil {
			return err
		}
		if err := b.Append(uint32(3), "tres", nil, decimal.Zero, time.Now(), "x"); err != nil {
			return err
		}
		return b.Send()
	})
	check("Exec(\"INSERT INTO t (a, b) VALUES (...)\") — se cuelga en 18.16", false, func(ctx context.Context) error {
		c := s.Conn(t) // a connection of its own: a timed-out one is unusable
		return c.Exec(ctx, "INSERT INTO t (a, b) VALUES (4, 'cuatro')")
	})
	check("Exec(\"INSERT INTO t (a, b) SELECT ...\")", true, func(ctx context.Context) error {
		return conn.Exec(ctx, "INSERT INTO t (a, b) SELECT 5, 'cinco'")
	})
	check("Query con ? (enlace en el cliente)", true, func(ctx context.Context) error {
		var b string
		return conn.QueryRow(ctx, "SELECT b FROM t WHERE a = ? AND b = ?", 5, "cinco").Scan(&b)
	})
	check("Query con @nombre (clickhouse.Named, enlace en el cliente)", true, func(ctx context.Context) error {
		var b string
		return conn.QueryRow(ctx, "SELECT b FROM t WHERE a = @a", clickhouse.Named("a", 5)).Scan(&b)
	})
	check("Query con {a:UInt32} y clickhouse.WithParameters (en el servidor)", false, func(ctx context.Context) error {
		c := s.Conn(t)
		var b string
		pctx := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"a": "5"}))
		return c.QueryRow(pctx, "SELECT b FROM t WHERE a = {a:UInt32}").Scan(&b)
	})
	check("database/sql: Prepare(\"INSERT INTO t (a, b)\") en una transacción", true, func(ctx context.Context) error {
		db := s.DB(t)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, "INSERT INTO t (a, b)")
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, 6, "seis"); err != nil {
			return err
		}
		return tx.Commit()
	})
	check("WithSettings por consulta (max_threads)", true, func(ctx context.Context) error {
		sctx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_threads": 1}))
		return conn.Exec(sctx, "SELECT 1")
	})
}

// TestCompatCluster: the distributed DDL that a 2-shard cluster accepts, in
// order (later statements rely on earlier ones).
func TestCompatCluster(t *testing.T) {
	c := StartCluster(t, 2, Options{})
	s := c.Server(0)
	is18 := strings.HasPrefix(s.Version(), "18.16.")
	sync := sv("insert_distributed_sync", "1")
	steps := []struct {
		q      string
		want18 bool
		params url.Values
	}{
		{"CREATE DATABASE IF NOT EXISTS obs ON CLUSTER observatorio", true, nil},
		{"CREATE TABLE obs.r ON CLUSTER observatorio (n UInt64, d Date) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/obs/r', '{replica}') PARTITION BY toYYYYMM(d) ORDER BY n", true, nil},
		{"CREATE TABLE IF NOT EXISTS obs.r ON CLUSTER observatorio (n UInt64, d Date) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/obs/r', '{replica}') PARTITION BY toYYYYMM(d) ORDER BY n", true, nil},
		{"CREATE TABLE obs.r_all ON CLUSTER observatorio AS obs.r ENGINE = Distributed(observatorio, obs, r, n)", true, nil},
		{"CREATE TABLE obs.r_all2 ON CLUSTER observatorio AS obs.r ENGINE = Distributed('{cluster}', 'obs', 'r', rand())", true, nil},
		{"OPTIMIZE TABLE obs.r FINAL", false, nil}, // empty replicated table: 18.16 bug
		{"CREATE TABLE obs.r3 ON CLUSTER '{cluster}' (n UInt64) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/obs/r3', '{replica}') ORDER BY n", true, nil},
		{"CREATE TABLE obs.r4 ON CLUSTER observatorio (n UInt64) ENGINE = ReplicatedMergeTree ORDER BY n", false, nil},
		{"CREATE TABLE obs.r5 ON CLUSTER observatorio (n UInt64) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}') ORDER BY n", true, nil},
		{"CREATE TABLE obs.r6 ON CLUSTER observatorio (d Date, n UInt64) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/obs/r6', '{replica}', d, (n), 8192)", true, nil},
		{"CREATE TABLE obs.rr ON CLUSTER observatorio (k String, v UInt64, ver UInt64) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/obs/rr', '{replica}', ver) ORDER BY k", true, nil},
		{"CREATE TABLE obs.p ON CLUSTER observatorio (n UInt64) ENGINE = MergeTree ORDER BY n", true, nil},
		{"INSERT INTO obs.r_all (n, d) SELECT number, toDate('2024-01-01') FROM system.numbers LIMIT 10", true, sync},
		{"INSERT INTO obs.r_all (n, d) SELECT number, toDate('2024-02-01') FROM system.numbers LIMIT 10", true, sync},
		{"SYSTEM FLUSH DISTRIBUTED obs.r_all", false, nil},
		{"SYSTEM SYNC REPLICA obs.r", true, nil},
		{"ALTER TABLE obs.r ON CLUSTER observatorio ADD COLUMN a String", true, nil},
		{"ALTER TABLE obs.r ON CLUSTER observatorio_plain ADD COLUMN b String", false, nil},
		{"ALTER TABLE obs.r_all ON CLUSTER observatorio ADD COLUMN a String", false, nil},
		{"ALTER TABLE obs.r_all ON CLUSTER observatorio_plain ADD COLUMN a String", true, nil},
		{"ALTER TABLE obs.p ON CLUSTER observatorio ADD COLUMN a String", false, nil},
		{"ALTER TABLE obs.p ON CLUSTER observatorio_plain ADD COLUMN a String", true, nil},
		{"ALTER TABLE obs.r ON CLUSTER observatorio DELETE WHERE n = 1", true, nil},
		{"ALTER TABLE obs.r ON CLUSTER observatorio UPDATE a = 'x' WHERE n = 2", true, nil},
		{"OPTIMIZE TABLE obs.r ON CLUSTER observatorio FINAL", true, nil},
		{"OPTIMIZE TABLE obs.r FINAL", true, nil},
		{"ALTER TABLE obs.r ON CLUSTER observatorio DROP PARTITION 202401", true, nil},
		{"TRUNCATE TABLE obs.r ON CLUSTER observatorio", true, nil},
		{"RENAME TABLE obs.p TO obs.p2 ON CLUSTER observatorio", true, nil},
		{"CREATE VIEW obs.v ON CLUSTER observatorio AS SELECT n FROM obs.r", true, nil},
		{"CREATE MATERIALIZED VIEW obs.mv ON CLUSTER observatorio ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/obs/mv', '{replica}') ORDER BY n AS SELECT n FROM obs.r", true, nil},
		{"DROP TABLE obs.r_all ON CLUSTER observatorio", true, nil},
		{"DROP TABLE IF EXISTS obs.no_existe ON CLUSTER observatorio", true, nil},
		{"DROP DATABASE IF EXISTS obs ON CLUSTER observatorio", true, nil},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| DDL en el clúster | %s | nota |\n|---|---|---|\n", s.Version())
	for _, st := range steps {
		_, err := s.HTTPQuery(st.q, st.params)
		mark, note := "sí", ""
		if err != nil {
			mark, note = "**no**", shortErr(err)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", st.q, mark, note)
		if is18 && (err == nil) != st.want18 {
			t.Errorf("%s: en 18.16 se esperaba éxito=%v, llegó %v", st.q, st.want18, err)
		}
	}
	t.Log(b.String())
}
