-- Resultados de la verificación de liquidaciones (recálculo con el núcleo de liquidación) por municipio, impuesto, vigencia y estado.
-- Verification results: liquidations per municipality, tax, tax year and
-- verification status, with the sum of the differences between what was
-- billed and what the rules give. contribuyentes, top1 and top2 (largest
-- absolute differences of one taxpayer) and magnitud (sum of absolute
-- differences) feed the disclosure rules.
-- Each taxpayer is grouped by a 64-bit hash of the pseudonym (8 bytes, not
-- 64): the per-taxpayer GROUP BY is the query's memory, and with the long
-- key it spilled after every block at 9.9M rows (etl/BENCHMARKS.md,
-- "Session 7"). Two taxpayers sharing a hash (at a million taxpayers, odds
-- of about 3 in 10^8 that any two do) would count as one, amounts added:
-- fewer contributors and a larger top contribution, which only suppresses
-- more. The taxpayers are also split into {tajadas} slices by that hash,
-- one statement per slice ({tajada}), so that the GROUP BY holds a
-- bounded number of taxpayers whatever the size of the data:
-- datasets.buildAggregates picks the number and adds the slices' cells up
-- (contributors and amounts add up, top1 and top2 are the two largest of
-- the slices').
SELECT
    codigo_municipio,
    ifNull(municipio, '') AS municipio,
    impuesto,
    vigencia,
    estado,
    liquidaciones,
    diferencia,
    magnitud,
    contribuyentes,
    top1,
    top2
FROM
(
    SELECT
        code,
        code AS codigo_municipio,
        impuesto,
        vigencia,
        estado,
        sum(n) AS liquidaciones,
        sum(s) AS diferencia,
        sum(a) AS magnitud,
        count() AS contribuyentes,
        arrayReverseSort(groupArray(toFloat64(a))) AS aportes,
        arrayElement(aportes, 1) AS top1,
        arrayElement(aportes, 2) AS top2
    FROM
    (
        SELECT
            municipality_code AS code,
            tax AS impuesto,
            tax_year AS vigencia,
            multiIf(verification_status = 'match', 'coincide',
                    verification_status = 'rounding', 'redondeo',
                    verification_status = 'discrepancy', 'discrepancia',
                    verification_status = 'unverifiable', 'no verificable',
                    'pendiente') AS estado,
            cityHash64(taxpayer_pseudonym) AS clave_contribuyente,
            count() AS n,
            sum(verification_diff) AS s,
            sum(abs(verification_diff)) AS a
        FROM liquidations FINAL
        PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
        WHERE cityHash64(taxpayer_pseudonym) % {tajadas:UInt64} = {tajada:UInt64}
        GROUP BY code, impuesto, vigencia, estado, clave_contribuyente
    ) AS t
    GROUP BY code, codigo_municipio, impuesto, vigencia, estado
) AS c
ANY LEFT JOIN
(
    SELECT code, name AS municipio FROM entities
) AS e USING code
