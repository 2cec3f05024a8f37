-- Facturado y recaudado por vigencia (año gravable), municipio e impuesto (tablero Recaudo).
-- Billed (liquidations) and collected (payments of that tax year) per tax
-- year, municipality and tax. Amounts of cells with fewer than {k} distinct
-- taxpayers are NULL; counts stay.
SELECT
    vigencia,
    codigo_municipio,
    impuesto,
    liquidaciones,
    if(contribuyentes_fact >= {k:UInt64}, facturado, NULL) AS facturado,
    pagos,
    if(contribuyentes_pag >= {k:UInt64}, recaudado, NULL) AS recaudado
FROM
(
    SELECT
        tax_year AS vigencia,
        municipality_code AS codigo_municipio,
        tax AS impuesto,
        count() AS liquidaciones,
        sum(billed_total) AS facturado,
        uniqUpTo(100)(taxpayer_pseudonym) AS contribuyentes_fact
    FROM liquidations FINAL
    PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed')
    GROUP BY vigencia, codigo_municipio, impuesto
) AS l
ANY LEFT JOIN
(
    SELECT
        tax_year AS vigencia,
        municipality_code AS codigo_municipio,
        tax AS impuesto,
        count() AS pagos,
        sum(amount) AS recaudado,
        uniqUpTo(100)(taxpayer_pseudonym) AS contribuyentes_pag
    FROM payments FINAL
    PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed')
    GROUP BY vigencia, codigo_municipio, impuesto
) AS p USING (vigencia, codigo_municipio, impuesto)
ORDER BY vigencia, codigo_municipio, impuesto
