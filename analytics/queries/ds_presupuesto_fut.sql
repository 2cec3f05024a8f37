-- Presupuesto definitivo de ingresos (FUT/CUIPO) del impuesto predial y del ICA por entidad y año.
-- Final revenue budget of the FUT/CUIPO reports for the predial and ICA
-- lines, per entity and year (public data: no disclosure control needed).
SELECT
    entity_code AS codigo_entidad,
    any(entity_name) AS entidad_fuente,
    year AS anio,
    multiIf(positionCaseInsensitive(rubro, 'PREDIAL') > 0, 'predial', 'ica') AS impuesto,
    sum(budget_final) AS presupuesto_definitivo
FROM budget_lines FINAL
PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
WHERE (positionCaseInsensitive(rubro, 'PREDIAL') > 0 OR positionCaseInsensitive(rubro, 'INDUSTRIA Y COMERCIO') > 0)
GROUP BY codigo_entidad, anio, impuesto
