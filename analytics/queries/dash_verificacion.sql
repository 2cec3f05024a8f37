-- Resultado de la verificación de liquidaciones por vigencia, municipio, impuesto y estado (tablero Verificación).
-- Verification results per tax year, municipality, tax and status (match,
-- rounding, discrepancy, unverifiable, pending): counts, and billed and
-- expected totals with the differences split by sign (billed above the
-- rules: de_mas; below: de_menos). Amounts of cells with fewer than {k}
-- distinct taxpayers are NULL.
SELECT
    vigencia,
    codigo_municipio,
    impuesto,
    estado,
    liquidaciones,
    if(contribuyentes >= {k:UInt64}, facturado, NULL) AS facturado,
    if(contribuyentes >= {k:UInt64}, esperado, NULL) AS esperado,
    if(contribuyentes >= {k:UInt64}, de_mas, NULL) AS de_mas,
    if(contribuyentes >= {k:UInt64}, de_menos, NULL) AS de_menos
FROM
(
    SELECT
        tax_year AS vigencia,
        municipality_code AS codigo_municipio,
        tax AS impuesto,
        verification_status AS estado,
        count() AS liquidaciones,
        sum(billed_total) AS facturado,
        sum(expected_total) AS esperado,
        sumIf(billed_total - expected_total, billed_total > expected_total) AS de_mas,
        sumIf(expected_total - billed_total, expected_total > billed_total) AS de_menos,
        uniqUpTo(100)(taxpayer_pseudonym) AS contribuyentes
    FROM liquidations FINAL
    PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed')
    GROUP BY vigencia, codigo_municipio, impuesto, estado
) AS v
ORDER BY vigencia, codigo_municipio, impuesto, estado
