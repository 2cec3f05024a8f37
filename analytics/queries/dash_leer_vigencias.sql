-- Facturado y recaudado por vigencia, municipio e impuesto, leído de los agregados precalculados (versión {version}).
-- Reads one version of dash_agg_vigencias (written by dashboards.Refresh from
-- the live dash_* query of the same columns).
SELECT vigencia, codigo_municipio, impuesto, liquidaciones, facturado, pagos, recaudado
FROM dash_agg_vigencias
WHERE version = {version:UInt64}
ORDER BY vigencia, codigo_municipio, impuesto, liquidaciones, facturado, pagos, recaudado
