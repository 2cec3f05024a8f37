-- Recaudo mensual publicado (última versión del conjunto recaudo-mensual), con la supresión ya aplicada.
-- The rows of the latest release of the recaudo-mensual dataset, as
-- published (k, dominance and secondary suppression applied): what the home
-- page charts, so that no chart shows a number the downloads withhold.
SELECT
    mes,
    codigo_municipio,
    municipio,
    impuesto,
    pagos,
    recaudo,
    recaudo_suprimido AS suprimido,
    liquidaciones,
    facturado,
    facturado_suprimido
FROM pub_recaudo_mensual
WHERE release = (SELECT max(release) FROM dataset_releases WHERE dataset = 'recaudo-mensual')
ORDER BY fila
