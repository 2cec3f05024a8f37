-- Recaudo por mes de pago, municipio e impuesto, leído de los agregados precalculados (versión {version}).
-- Reads one version of dash_agg_meses (written by dashboards.Refresh from
-- the live dash_* query of the same columns).
SELECT mes, codigo_municipio, impuesto, pagos, recaudo
FROM dash_agg_meses
WHERE version = {version:UInt64}
ORDER BY mes, codigo_municipio, impuesto, pagos, recaudo
