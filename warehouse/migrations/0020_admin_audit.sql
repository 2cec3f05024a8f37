-- Audit log of the admin API: who did what, when, with which outcome.
-- The client address is the admin's, never a citizen's: public requests are
-- not logged here.

-- shard_key: cityHash64(action)
CREATE TABLE IF NOT EXISTS admin_audit (
    at DateTime,
    action String,        -- run_job | list_runs | list_quarantine | publish
    target String,        -- job name, dataset, ...
    status UInt16,        -- HTTP status answered
    client String,        -- remote address of the admin client
    detail String
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (at, action);
