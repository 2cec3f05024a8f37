-- Views and downloads per published dataset and day (package datasets).
-- Counts only: no IP address, no user agent, nothing about who asked.
-- shard_key: cityHash64(dataset)
CREATE TABLE IF NOT EXISTS dataset_stats (
    dataset String,
    day Date,
    views UInt64,
    downloads UInt64
) ENGINE = SummingMergeTree()
ORDER BY (dataset, day)
