-- Recaudo por mes de pago, municipio e impuesto (tablero Recaudo).
-- Collections per month of payment, municipality and tax. A cell paid by
-- fewer than {k} distinct taxpayers keeps its count of payments but loses its
-- amount (NULL): uniqUpTo(100) counts exactly up to 100, so k may be at most
-- 100.
SELECT
    mes,
    codigo_municipio,
    impuesto,
    pagos,
    if(contribuyentes >= {k:UInt64}, recaudo, NULL) AS recaudo
FROM
(
    SELECT
        toStartOfMonth(paid_date) AS mes,
        municipality_code AS codigo_municipio,
        tax AS impuesto,
        count() AS pagos,
        sum(amount) AS recaudo,
        uniqUpTo(100)(taxpayer_pseudonym) AS contribuyentes
    FROM payments FINAL
    PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed')
    GROUP BY mes, codigo_municipio, impuesto
) AS p
ORDER BY mes, codigo_municipio, impuesto
