-- Aggregates behind the dashboards (package dashboards), computed once per
-- ETL commit instead of on a visitor's request: at 10 million liquidations
-- the live GROUP BYs take seconds, these tables answer in milliseconds.
-- Each refresh writes a new version (one partition per version) of every
-- table with INSERT ... SELECT of the live dash_* query, then records the
-- version in dashboard_aggregates; readers use the highest recorded version,
-- so they never see a half-written one. Older versions are dropped.
-- Amounts are already under disclosure control (NULL below k taxpayers).

-- shard_key: cityHash64(version)
CREATE TABLE IF NOT EXISTS dashboard_aggregates (
    version UInt64,
    created_at DateTime,
    cutoff Date,                  -- the date the arrears were computed at
    stamp String,                 -- committed ETL runs seen (count and last finish)
    seconds Float64               -- how long the refresh took
) ENGINE = ReplacingMergeTree(created_at)
ORDER BY version;

-- shard_key: cityHash64(codigo_municipio)
CREATE TABLE IF NOT EXISTS dash_agg_meses (
    version UInt64,
    mes Date,
    codigo_municipio String,
    impuesto String,
    pagos UInt64,
    recaudo Nullable(Decimal(38, 2))
) ENGINE = MergeTree()
PARTITION BY version
ORDER BY (version, mes, codigo_municipio, impuesto);

-- shard_key: cityHash64(codigo_municipio)
CREATE TABLE IF NOT EXISTS dash_agg_vigencias (
    version UInt64,
    vigencia UInt16,
    codigo_municipio String,
    impuesto String,
    liquidaciones UInt64,
    facturado Nullable(Decimal(38, 2)),
    pagos UInt64,
    recaudado Nullable(Decimal(38, 2))
) ENGINE = MergeTree()
PARTITION BY version
ORDER BY (version, vigencia, codigo_municipio, impuesto);

-- shard_key: cityHash64(codigo_municipio)
CREATE TABLE IF NOT EXISTS dash_agg_canales_pagos (
    version UInt64,
    trimestre Date,
    codigo_municipio String,
    impuesto String,
    canal String,
    pagos UInt64,
    monto Nullable(Decimal(38, 2))
) ENGINE = MergeTree()
PARTITION BY version
ORDER BY (version, trimestre, codigo_municipio, impuesto, canal);

-- shard_key: cityHash64(codigo_municipio)
CREATE TABLE IF NOT EXISTS dash_agg_declaraciones (
    version UInt64,
    trimestre Date,
    codigo_municipio String,
    impuesto String,
    canal String,
    declaraciones UInt64
) ENGINE = MergeTree()
PARTITION BY version
ORDER BY (version, trimestre, codigo_municipio, impuesto, canal);

-- shard_key: cityHash64(codigo_municipio)
CREATE TABLE IF NOT EXISTS dash_agg_verificacion (
    version UInt64,
    vigencia UInt16,
    codigo_municipio String,
    impuesto String,
    estado String,
    liquidaciones UInt64,
    facturado Nullable(Decimal(38, 2)),
    esperado Nullable(Decimal(38, 2)),
    de_mas Nullable(Decimal(38, 2)),
    de_menos Nullable(Decimal(38, 2))
) ENGINE = MergeTree()
PARTITION BY version
ORDER BY (version, vigencia, codigo_municipio, impuesto, estado);

-- shard_key: cityHash64(codigo_municipio)
CREATE TABLE IF NOT EXISTS dash_agg_cartera (
    version UInt64,
    vigencia UInt16,
    codigo_municipio String,
    impuesto String,
    tramo UInt8,
    liquidaciones UInt64,
    saldo Nullable(Decimal(38, 2))
) ENGINE = MergeTree()
PARTITION BY version
ORDER BY (version, vigencia, codigo_municipio, impuesto, tramo)
