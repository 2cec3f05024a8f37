-- Core tables of the observatory. Written once for a single ClickHouse
-- (embedded chDB or one server); the migrator derives the cluster form
-- (ReplicatedMergeTree shards named <table>_local plus a Distributed table
-- named <table>) from the same text. A line "-- shard_key: <expr>" before a
-- CREATE TABLE gives the sharding expression of its Distributed table.
--
-- Deduplication: tables that receive source rows are ReplacingMergeTree on
-- the row's business key, with loaded_at as the version, so a row loaded
-- twice keeps one copy (read them with FINAL where exactness matters).
-- Money is Decimal(18, 2), pesos.
--
-- ClickHouse 18.16 accepts ALTER ... ON CLUSTER on replicated and
-- Distributed tables only under different cluster settings (see
-- warehouse/chserver/COMPAT.md), so later migrations add tables rather than
-- alter these.

-- shard_key: cityHash64(code)
CREATE TABLE IF NOT EXISTS entities (
    code String,              -- DANE DIVIPOLA: 5 digits for a municipality, 2 for a department
    department_code String,
    department_name String,
    name String,
    kind String,              -- Municipio / Isla / Área no municipalizada / Departamento
    updated_at DateTime
) ENGINE = ReplacingMergeTree(updated_at)
ORDER BY code;

-- shard_key: cityHash64(municipality_code)
CREATE TABLE IF NOT EXISTS liquidations (
    liquidation_id String,
    municipality_code String,
    tax String,                   -- predial | ica | reteica
    tax_year UInt16,
    taxpayer_pseudonym String,    -- HMAC-SHA256 of the normalized id; never the id
    taxpayer_kind String,         -- natural | juridica
    filing_channel String,        -- web | presencial
    issue_date Date,
    due_date Date,
    base_amount Decimal(18, 2),   -- avalúo (predial) or taxable income (ICA)
    inputs String,                -- JSON of the other inputs of the rules, no personal data
    billed_total Decimal(18, 2),
    expected_total Decimal(18, 2),
    verification_status String,   -- match | rounding | discrepancy | unverifiable | pending
    verification_diff Decimal(18, 2),
    verification_detail String,
    source String,
    source_file String,
    source_line UInt64,
    run_id String,
    loaded_at DateTime
) ENGINE = ReplacingMergeTree(loaded_at)
PARTITION BY tax_year
ORDER BY (municipality_code, tax, liquidation_id);

-- shard_key: cityHash64(municipality_code)
CREATE TABLE IF NOT EXISTS payments (
    payment_id String,
    liquidation_id String,
    municipality_code String,
    tax String,
    tax_year UInt16,
    taxpayer_pseudonym String,
    paid_at DateTime,
    paid_date Date,
    amount Decimal(18, 2),
    channel String,               -- web | pse | tarjeta | banco | presencial
    source String,
    source_file String,
    source_line UInt64,
    run_id String,
    loaded_at DateTime
) ENGINE = ReplacingMergeTree(loaded_at)
PARTITION BY toYear(paid_date)
ORDER BY (municipality_code, payment_id);

-- shard_key: cityHash64(entity_code)
CREATE TABLE IF NOT EXISTS gel_measurements (
    framework String,             -- gel2008 | gd2018 | ...
    phase String,
    criterion String,
    entity_code String,
    measured_on Date,
    value Decimal(9, 4),
    unit String,                  -- porcentaje | puntaje | ...
    evidence_url String,
    synthetic UInt8,
    source String,
    source_file String,
    source_line UInt64,
    run_id String,
    loaded_at DateTime
) ENGINE = ReplacingMergeTree(loaded_at)
ORDER BY (entity_code, framework, phase, criterion, measured_on);

-- shard_key: cityHash64(entity_code)
CREATE TABLE IF NOT EXISTS budget_lines (
    department_code String,
    entity_code String,
    entity_name String,
    rubro String,
    year UInt16,
    budget_final Decimal(18, 2),
    budget_constant_2025 Nullable(Decimal(18, 2)),  -- absent in some FUT rows
    source String,
    source_file String,
    source_line UInt64,
    run_id String,
    loaded_at DateTime
) ENGINE = ReplacingMergeTree(loaded_at)
ORDER BY (entity_code, year, rubro);

-- shard_key: cityHash64(job)
CREATE TABLE IF NOT EXISTS etl_runs (
    run_id String,
    job String,
    started_at DateTime,
    finished_at DateTime,
    status String,                -- running | committed | failed
    rows_read UInt64,
    rows_loaded UInt64,
    rows_quarantined UInt64,
    rows_skipped UInt64,
    rows_unchanged UInt64,
    error String
) ENGINE = ReplacingMergeTree(finished_at)
ORDER BY (job, run_id);

-- shard_key: cityHash64(source_file)
CREATE TABLE IF NOT EXISTS quarantine (
    job String,
    source String,
    source_file String,
    source_line UInt64,
    field String,
    raw String,
    code String,
    reason String,
    run_id String,
    quarantined_at DateTime
) ENGINE = ReplacingMergeTree(quarantined_at)
ORDER BY (job, source, source_file, source_line, field);

-- shard_key: cityHash64(job)
CREATE TABLE IF NOT EXISTS watermarks (
    job String,
    source String,
    watermark String,
    run_id String,
    updated_at DateTime
) ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (job, source);