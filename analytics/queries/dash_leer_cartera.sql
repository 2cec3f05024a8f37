-- Cartera por vigencia, municipio, impuesto y edad, leído de los agregados precalculados (versión {version}).
-- Reads one version of dash_agg_cartera (written by dashboards.Refresh from
-- the live dash_* query of the same columns).
SELECT vigencia, codigo_municipio, impuesto, tramo, liquidaciones, saldo
FROM dash_agg_cartera
WHERE version = {version:UInt64}
ORDER BY vigencia, codigo_municipio, impuesto, tramo, liquidaciones, saldo
