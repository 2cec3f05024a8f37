-- Verificación por vigencia, municipio, impuesto y estado, leído de los agregados precalculados (versión {version}).
-- Reads one version of dash_agg_verificacion (written by dashboards.Refresh from
-- the live dash_* query of the same columns).
SELECT vigencia, codigo_municipio, impuesto, estado, liquidaciones, facturado, esperado, de_mas, de_menos
FROM dash_agg_verificacion
WHERE version = {version:UInt64}
ORDER BY vigencia, codigo_municipio, impuesto, estado, liquidaciones, facturado, esperado, de_mas, de_menos
