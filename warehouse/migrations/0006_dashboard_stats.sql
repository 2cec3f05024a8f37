-- Views of the dashboards and downloads of the data behind their charts,
-- per dashboard and day (package dashboards; datasets count theirs in
-- dataset_stats). Counts only: no IP address, no user agent, nothing about
-- who asked. The web process adds to in-memory counters and writes them in
-- batches; SummingMergeTree adds the rows up.
-- shard_key: cityHash64(dashboard)
CREATE TABLE IF NOT EXISTS dashboard_stats (
    dashboard String,
    day Date,
    views UInt64,
    downloads UInt64
) ENGINE = SummingMergeTree()
ORDER BY (dashboard, day)
