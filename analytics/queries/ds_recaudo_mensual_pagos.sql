-- Recaudo por mes (fecha de pago), municipio e impuesto, con contribuyentes distintos y los dos mayores aportes para el control de divulgación.
-- Collected amounts per month of payment, municipality and tax, from the ETL
-- runs committed up to {corte}. These cells are the sums of the daily cells
-- (ds_pagos_diarios) of the month over every channel.
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
    mes,
    codigo_municipio,
    ifNull(municipio, '') AS municipio,
    impuesto,
    pagos,
    recaudo,
    contribuyentes,
    top1,
    top2
FROM
(
    SELECT
        mes,
        code,
        code AS codigo_municipio,
        impuesto,
        sum(n) AS pagos,
        sum(s) AS recaudo,
        count() AS contribuyentes,
        arrayReverseSort(groupArray(toFloat64(s))) AS aportes,
        arrayElement(aportes, 1) AS top1,
        arrayElement(aportes, 2) AS top2
    FROM
    (
        SELECT toStartOfMonth(paid_date) AS mes, municipality_code AS code, tax AS impuesto,
               cityHash64(taxpayer_pseudonym) AS clave_contribuyente, count() AS n, sum(amount) AS s
        FROM payments FINAL
        PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
        WHERE cityHash64(taxpayer_pseudonym) % {tajadas:UInt64} = {tajada:UInt64}
        GROUP BY mes, code, impuesto, clave_contribuyente
    ) AS t
    GROUP BY mes, code, codigo_municipio, impuesto
) AS c
ANY LEFT JOIN
(
    SELECT code, name AS municipio FROM entities
) AS e USING code
