-- Published datasets (package datasets): releases, their files and the rows
-- of each release. A release is immutable: its rows and files are written
-- under a release number nobody else uses, and it becomes visible only when
-- its row in dataset_releases is written, after everything else. Readers
-- (downloads, the JSON API, pages) resolve "latest" to the highest recorded
-- release and then read only that release's rows and files: one consistent
-- snapshot, whatever the ETL is loading meanwhile.

-- shard_key: cityHash64(dataset)
CREATE TABLE IF NOT EXISTS dataset_releases (
    dataset String,
    release UInt32,
    created_at DateTime,
    cutoff DateTime,              -- ETL runs committed up to here are in the release
    rows UInt64,
    suppressed_cells UInt64,      -- aggregate cells withheld (primary + secondary)
    suppressed_rows UInt64,       -- record-level rows withheld for k-anonymity
    fingerprint String,           -- content fingerprint, to publish only what changed
    files String,                 -- JSON: [{name, format, media_type, bytes, sha256}]
    disclosure String,            -- JSON: what the disclosure control did
    engine String
) ENGINE = ReplacingMergeTree(created_at)
ORDER BY (dataset, release);

-- Release files (CSV, Excel CSV, Parquet, datapackage.json) in 1 MiB
-- chunks, so that every web node of a deployment serves the same bytes and
-- a download resumes at any offset. index_granularity = 1: one chunk is one
-- granule, so reading chunk n reads only chunk n.
-- shard_key: cityHash64(dataset)
CREATE TABLE IF NOT EXISTS dataset_files (
    dataset String,
    release UInt32,
    name String,
    chunk UInt32,
    data String
) ENGINE = MergeTree()
ORDER BY (dataset, release, name, chunk)
SETTINGS index_granularity = 1;

-- The published rows of every dataset, one table per dataset, columns as
-- declared in datasets/catalog.go (a test checks that they agree). Hidden
-- columns: release; fila (1-based row number in the release's stable
-- order, the keyset cursor of the JSON API); clave (the row's key, for
-- diffs between releases); huella (hash of the published values).

-- shard_key: cityHash64(clave)
CREATE TABLE IF NOT EXISTS pub_liquidaciones (
    release UInt32,
    fila UInt64,
    clave String,
    huella UInt64,
    id_registro String,
    contribuyente String,
    codigo_municipio String,
    municipio String,
    impuesto String,
    vigencia UInt16,
    tipo_contribuyente String,
    canal_radicacion String,
    rango_base String,
    rango_facturado String,
    estado_verificacion String,
    estado_pago String
) ENGINE = MergeTree()
ORDER BY (release, fila);

-- shard_key: cityHash64(clave)
CREATE TABLE IF NOT EXISTS pub_pagos_diarios (
    release UInt32,
    fila UInt64,
    clave String,
    huella UInt64,
    fecha Date,
    codigo_municipio String,
    municipio String,
    impuesto String,
    canal String,
    pagos Nullable(UInt32),
    recaudo Nullable(Decimal(18, 2)),
    suprimido UInt8
) ENGINE = MergeTree()
ORDER BY (release, fila);

-- shard_key: cityHash64(clave)
CREATE TABLE IF NOT EXISTS pub_recaudo_mensual (
    release UInt32,
    fila UInt64,
    clave String,
    huella UInt64,
    mes Date,
    codigo_municipio String,
    municipio String,
    impuesto String,
    pagos Nullable(UInt32),
    recaudo Nullable(Decimal(18, 2)),
    recaudo_suprimido UInt8,
    liquidaciones Nullable(UInt32),
    facturado Nullable(Decimal(18, 2)),
    facturado_suprimido UInt8
) ENGINE = MergeTree()
ORDER BY (release, fila);

-- shard_key: cityHash64(clave)
CREATE TABLE IF NOT EXISTS pub_cartera (
    release UInt32,
    fila UInt64,
    clave String,
    huella UInt64,
    codigo_municipio String,
    municipio String,
    impuesto String,
    vigencia UInt16,
    edad String,
    liquidaciones Nullable(UInt32),
    saldo Nullable(Decimal(18, 2)),
    suprimido UInt8
) ENGINE = MergeTree()
ORDER BY (release, fila);

-- shard_key: cityHash64(clave)
CREATE TABLE IF NOT EXISTS pub_verificacion (
    release UInt32,
    fila UInt64,
    clave String,
    huella UInt64,
    codigo_municipio String,
    municipio String,
    impuesto String,
    vigencia UInt16,
    estado String,
    liquidaciones Nullable(UInt32),
    diferencia Nullable(Decimal(18, 2)),
    suprimido UInt8
) ENGINE = MergeTree()
ORDER BY (release, fila);

-- shard_key: cityHash64(clave)
CREATE TABLE IF NOT EXISTS pub_avance_gel (
    release UInt32,
    fila UInt64,
    clave String,
    huella UInt64,
    codigo_entidad String,
    entidad String,
    marco String,
    fase String,
    fecha Date,
    criterios UInt32,
    avance Decimal(9, 4),
    sintetico UInt8
) ENGINE = MergeTree()
ORDER BY (release, fila);

-- shard_key: cityHash64(clave)
CREATE TABLE IF NOT EXISTS pub_presupuesto_recaudo (
    release UInt32,
    fila UInt64,
    clave String,
    huella UInt64,
    codigo_entidad String,
    entidad String,
    anio UInt16,
    impuesto String,
    presupuesto_definitivo Nullable(Decimal(18, 2)),
    recaudo Nullable(Decimal(18, 2)),
    recaudo_suprimido UInt8
) ENGINE = MergeTree()
ORDER BY (release, fila);

-- shard_key: cityHash64(clave)
CREATE TABLE IF NOT EXISTS pub_ejecuciones_etl (
    release UInt32,
    fila UInt64,
    clave String,
    huella UInt64,
    id_ejecucion String,
    proceso String,
    inicio DateTime,
    fin DateTime,
    estado String,
    filas_leidas UInt64,
    filas_cargadas UInt64,
    filas_cuarentena UInt64,
    filas_omitidas UInt64,
    filas_sin_cambio UInt64
) ENGINE = MergeTree()
ORDER BY (release, fila);

-- shard_key: cityHash64(clave)
CREATE TABLE IF NOT EXISTS pub_entidades (
    release UInt32,
    fila UInt64,
    clave String,
    huella UInt64,
    codigo String,
    codigo_departamento String,
    departamento String,
    nombre String,
    tipo String
) ENGINE = MergeTree()
ORDER BY (release, fila)
