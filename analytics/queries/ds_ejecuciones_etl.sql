-- Ejecuciones del ETL: cuándo corrió cada proceso, con qué resultado y cuántas filas leyó, cargó y puso en cuarentena.
-- The ETL run log up to {corte}, without the error text (free text may
-- quote source rows).
SELECT
    run_id AS id_ejecucion,
    job AS proceso,
    started_at AS inicio,
    finished_at AS fin,
    multiIf(status = 'committed', 'confirmada', status = 'failed', 'fallida', status = 'running', 'en curso', status) AS estado,
    rows_read AS filas_leidas,
    rows_loaded AS filas_cargadas,
    rows_quarantined AS filas_cuarentena,
    rows_skipped AS filas_omitidas,
    rows_unchanged AS filas_sin_cambio
FROM etl_runs FINAL
WHERE started_at <= {corte:DateTime}
