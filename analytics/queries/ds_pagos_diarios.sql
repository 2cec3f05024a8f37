-- Pagos por día, municipio, impuesto y canal, con lo necesario para el control de divulgación (contribuyentes distintos y los dos mayores aportes).
-- Payment cells by day, municipality, tax and channel, from the ETL runs
-- committed up to {corte}. contribuyentes, top1 and top2 (the two largest
-- amounts paid by one taxpayer in the cell) feed the k and (2, 85)
-- dominance rules that datasets.Publish applies; they are never published.
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
    fecha,
    codigo_municipio,
    ifNull(municipio, '') AS municipio,
    impuesto,
    canal,
    pagos,
    recaudo,
    contribuyentes,
    top1,
    top2
FROM
(
    SELECT
        fecha,
        code,
        code AS codigo_municipio,
        impuesto,
        canal,
        sum(n) AS pagos,
        sum(s) AS recaudo,
        count() AS contribuyentes,
        arrayReverseSort(groupArray(toFloat64(s))) AS aportes,
        arrayElement(aportes, 1) AS top1,
        arrayElement(aportes, 2) AS top2
    FROM
    (
        SELECT paid_date AS fecha, municipality_code AS code, tax AS impuesto, channel AS canal,
               cityHash64(taxpayer_pseudonym) AS clave_contribuyente, count() AS n, sum(amount) AS s
        FROM payments FINAL
        PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
        WHERE cityHash64(taxpayer_pseudonym) % {tajadas:UInt64} = {tajada:UInt64}
        GROUP BY fecha, code, impuesto, canal, clave_contribuyente
    ) AS t
    GROUP BY fecha, code, codigo_municipio, impuesto, canal
) AS c
ANY LEFT JOIN
(
    SELECT code, name AS municipio FROM entities
) AS e USING code
