-- Mediciones de Gobierno en Línea por marco, entidad, fase y fecha (tablero Gobierno en Línea).
-- GEL / Gobierno Digital measurements per framework, entity, phase and date:
-- the sum of the criteria's values (0-100) and how many criteria were
-- measured, so that the dashboard averages them exactly.
SELECT
    framework AS marco,
    entity_code AS codigo_entidad,
    phase AS fase,
    measured_on AS fecha,
    count() AS criterios,
    sum(value) AS suma_valores
FROM gel_measurements FINAL
PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed')
GROUP BY marco, codigo_entidad, fase, fecha
ORDER BY marco, codigo_entidad, fase, fecha
