-- Recaudo por año de pago, municipio y grupo de impuesto (predial; ICA con ReteICA), para compararlo con el presupuesto del FUT.
-- Collected amounts per year of payment, municipality and tax group as the
-- FUT budget lines group them: predial, and ica (ICA plus ReteICA
-- withholdings). These cells are sums of the monthly cells of
-- ds_recaudo_mensual_pagos.
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
    anio,
    codigo_entidad,
    impuesto,
    recaudo,
    contribuyentes,
    top1,
    top2
FROM
(
    SELECT
        anio,
        code AS codigo_entidad,
        impuesto,
        sum(s) AS recaudo,
        count() AS contribuyentes,
        arrayReverseSort(groupArray(toFloat64(s))) AS aportes,
        arrayElement(aportes, 1) AS top1,
        arrayElement(aportes, 2) AS top2
    FROM
    (
        SELECT toYear(paid_date) AS anio, municipality_code AS code, if(tax = 'predial', 'predial', 'ica') AS impuesto,
               cityHash64(taxpayer_pseudonym) AS clave_contribuyente, sum(amount) AS s
        FROM payments FINAL
        PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
        WHERE cityHash64(taxpayer_pseudonym) % {tajadas:UInt64} = {tajada:UInt64}
        GROUP BY anio, code, impuesto, clave_contribuyente
    ) AS t
    GROUP BY anio, codigo_entidad, impuesto
) AS c
