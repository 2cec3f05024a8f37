-- Sello del estado de los datos: cargas confirmadas del ETL y versión vigente de los agregados de los tableros.
-- One round trip for the dashboards' freshness check: the committed ETL
-- runs (count and last finish) and the current aggregates version with its
-- stamp and cut-off date (0 and empty when none was computed yet).
SELECT
    (SELECT count() FROM etl_runs WHERE status = 'committed') AS cargas,
    (SELECT max(finished_at) FROM etl_runs WHERE status = 'committed') AS ultima,
    (SELECT max(version) FROM dashboard_aggregates) AS version_vigente,
    (SELECT argMax(stamp, version) FROM dashboard_aggregates) AS sello,
    (SELECT argMax(cutoff, version) FROM dashboard_aggregates) AS corte
