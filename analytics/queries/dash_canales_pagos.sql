-- Pagos por trimestre, municipio, impuesto y canal de pago (tablero Canales).
-- Payments per quarter of payment, municipality, tax and channel (web, pse,
-- tarjeta, banco, presencial). Counts are always published; amounts of cells
-- with fewer than {k} distinct taxpayers are NULL.
SELECT
    trimestre,
    codigo_municipio,
    impuesto,
    canal,
    pagos,
    if(contribuyentes >= {k:UInt64}, monto, NULL) AS monto
FROM
(
    SELECT
        toStartOfQuarter(paid_date) AS trimestre,
        municipality_code AS codigo_municipio,
        tax AS impuesto,
        channel AS canal,
        count() AS pagos,
        sum(amount) AS monto,
        uniqUpTo(100)(taxpayer_pseudonym) AS contribuyentes
    FROM payments FINAL
    PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed')
    GROUP BY trimestre, codigo_municipio, impuesto, canal
) AS p
ORDER BY trimestre, codigo_municipio, impuesto, canal
