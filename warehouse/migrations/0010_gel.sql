-- Gobierno en Línea / Gobierno Digital tracker (package analytics/gel).
--
-- The frameworks (GEL 2008, Gobierno Digital 2018, the Índice de Gobierno
-- Digital) are data shipped in the binary (analytics/gel/frameworks.yaml).
-- The tracker's own queries take them from the binary; gel.Sync also
-- writes them here for anyone who reads the warehouse with SQL (names,
-- deadlines, targets and legal references). Every catalog row carries the
-- catalog's checksum: read the rows of the newest catalog
-- (catalog = (SELECT argMax(catalog, updated_at) FROM gel_frameworks)), so
-- a phase or criterion removed from the YAML disappears without deletes.
-- Measurements stay in gel_measurements (0001_core.sql); action plans and
-- the published Índice de Gobierno Digital have their own tables below.

-- shard_key: cityHash64(framework)
CREATE TABLE IF NOT EXISTS gel_frameworks (
    catalog String,
    framework String,
    position UInt16,
    name String,
    short_name String,
    part String,                  -- what its parts are called: fase | componente | índice
    unit String,                  -- percent | score
    description String,
    refs String,                  -- JSON: [{norma, fecha, titulo, articulo, url, nota, fuente, verificado}]
    updated_at DateTime
) ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (catalog, framework);

-- shard_key: cityHash64(framework)
CREATE TABLE IF NOT EXISTS gel_phases (
    catalog String,
    framework String,
    phase String,
    position UInt16,
    name String,
    summary String,
    kind String,                  -- fase | propósito | habilitador | componente | índice
    deadline Nullable(Date),      -- territorial deadline; NULL: none
    target Decimal(9, 4),
    criteria UInt16,              -- criteria in the catalog (0: measured as a whole)
    refs String,
    updated_at DateTime
) ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (catalog, framework, phase);

-- shard_key: cityHash64(framework)
CREATE TABLE IF NOT EXISTS gel_criteria (
    catalog String,
    framework String,
    phase String,
    criterion String,
    position UInt16,
    name String,
    grp String,
    target Decimal(9, 4),
    unit String,
    deadline Nullable(Date),      -- its own, else the phase's
    refs String,
    updated_at DateTime
) ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (catalog, framework, phase, criterion);

-- Action-plan items of an entity (ingest kind gel_action_item).
-- shard_key: cityHash64(entity_code)
CREATE TABLE IF NOT EXISTS gel_action_items (
    entity_code String,
    plan String,
    item String,
    framework String,
    phase String,
    action String,
    responsible String,           -- a post or a committee, never a person's name
    indicator String,
    goal String,
    deadline Nullable(Date),
    deadline_text String,         -- as the plan writes it ("Semestre 2/2009")
    status String,                -- pendiente | en_curso | cumplida | cancelada
    completed_on Nullable(Date),
    evidence_url String,
    synthetic UInt8,
    source String,
    source_file String,
    source_line UInt64,
    run_id String,
    loaded_at DateTime
) ENGINE = ReplacingMergeTree(loaded_at)
ORDER BY (entity_code, plan, item);

-- The Índice de Gobierno Digital as MinTIC publishes it (ingest kind
-- gd_index_score): one row per entity, vigencia and index, with the
-- average of the entity's peer group. entity_code is the DIVIPOLA code of
-- an alcaldía (dd000 for a gobernación) when it could be resolved, else ''.
-- shard_key: cityHash64(sigep_code)
CREATE TABLE IF NOT EXISTS gel_index_scores (
    sigep_code String,
    entity_name String,
    entity_code String,
    department String,
    municipality String,
    peer_group String,
    year UInt16,
    index_name String,
    score Decimal(9, 4),
    peer_average Nullable(Decimal(9, 4)),
    synthetic UInt8,
    source String,
    source_file String,
    source_line UInt64,
    run_id String,
    loaded_at DateTime
) ENGINE = ReplacingMergeTree(loaded_at)
ORDER BY (sigep_code, year, index_name)
