-- Presupuesto definitivo de ingresos (FUT) por entidad, año y rubro (tablero Presupuesto).
-- Final revenue budget per entity, year and budget line, from the FUT/CUIPO
-- reports (public budget figures: no disclosure control needed).
SELECT
    entity_code AS codigo_entidad,
    any(entity_name) AS entidad,
    year AS anio,
    rubro,
    sum(budget_final) AS presupuesto
FROM budget_lines FINAL
PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed')
GROUP BY codigo_entidad, anio, rubro
ORDER BY codigo_entidad, anio, rubro
