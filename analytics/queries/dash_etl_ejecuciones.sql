-- Ejecuciones del ETL desde una fecha, con su estado y sus filas (tablero El observatorio).
-- ETL runs started since {desde}, newest first, with status and row counts.
SELECT
    job AS trabajo,
    run_id AS ejecucion,
    started_at AS inicio,
    finished_at AS fin,
    status AS estado,
    rows_read AS leidas,
    rows_loaded AS cargadas,
    rows_quarantined AS en_cuarentena,
    substring(error, 1, 300) AS error
FROM etl_runs FINAL
WHERE started_at >= {desde:DateTime}
ORDER BY inicio DESC
LIMIT 5000
