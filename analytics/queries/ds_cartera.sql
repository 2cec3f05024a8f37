-- Cartera (saldos por cobrar) por municipio, impuesto, vigencia y edad de la deuda a la fecha de corte.
-- Arrears: liquidations past due at {corte} with billed minus paid > 0,
-- grouped by municipality, tax, tax year and age of the debt (days since
-- the due date). {saldos} holds each liquidation of the snapshot with what
-- was paid for it (saldos_liquidaciones.sql). contribuyentes, top1 and top2
-- feed the disclosure rules.
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
    edad,
    liquidaciones,
    saldo,
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
        edad,
        sum(n) AS liquidaciones,
        sum(s) AS saldo,
        count() AS contribuyentes,
        arrayReverseSort(groupArray(toFloat64(s))) AS aportes,
        arrayElement(aportes, 1) AS top1,
        arrayElement(aportes, 2) AS top2
    FROM
    (
        SELECT code, impuesto, vigencia, edad, clave_contribuyente, count() AS n, sum(billed_total - pagado) AS s
        FROM
        (
            SELECT
                municipality_code AS code,
                tax AS impuesto,
                tax_year AS vigencia,
                cityHash64(taxpayer_pseudonym) AS clave_contribuyente,
                dateDiff('day', due_date, toDate({corte:DateTime})) AS dias,
                multiIf(dias <= 90, '1. hasta 90 días',
                        dias <= 180, '2. 91 a 180 días',
                        dias <= 360, '3. 181 a 360 días',
                        dias <= 1080, '4. 1 a 3 años',
                        '5. más de 3 años') AS edad,
                billed_total,
                pagado
            FROM {saldos:Identifier}
            WHERE due_date < toDate({corte:DateTime}) AND cityHash64(taxpayer_pseudonym) % {tajadas:UInt64} = {tajada:UInt64}
        ) AS l
        WHERE billed_total - pagado > 0
        GROUP BY code, impuesto, vigencia, edad, clave_contribuyente
        HAVING s > 0
    ) AS t
    GROUP BY code, codigo_municipio, impuesto, vigencia, edad
) AS c
ANY LEFT JOIN
(
    SELECT code, name AS municipio FROM entities
) AS e USING code
