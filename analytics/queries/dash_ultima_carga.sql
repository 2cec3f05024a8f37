-- Sello de la última carga confirmada del ETL: cambia cuando una ejecución confirma datos nuevos.
-- Stamp of the committed ETL runs; the dashboards' caches compare it to
-- notice commits made by other processes.
SELECT
    count() AS cargas,
    max(finished_at) AS ultima
FROM etl_runs
WHERE status = 'committed'
