-- Declaraciones por trimestre, municipio, impuesto y canal, leído de los agregados precalculados (versión {version}).
-- Reads one version of dash_agg_declaraciones (written by dashboards.Refresh from
-- the live dash_* query of the same columns).
SELECT trimestre, codigo_municipio, impuesto, canal, declaraciones
FROM dash_agg_declaraciones
WHERE version = {version:UInt64}
ORDER BY trimestre, codigo_municipio, impuesto, canal, declaraciones
