-- Cartera (saldos por cobrar) por municipio, impuesto, vigencia y edad de la deuda a la fecha de corte.
-- Arrears: liquidations past due at {corte} with billed minus paid > 0,
-- grouped by municipality, tax, tax year and age of the debt (days since
-- the due date). contribuyentes, top1 and top2 feed the disclosure rules.
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
        SELECT code, impuesto, vigencia, edad, taxpayer_pseudonym, count() AS n, sum(billed_total - pagado) AS s
        FROM
        (
            SELECT
                liquidation_id,
                municipality_code AS code,
                tax AS impuesto,
                tax_year AS vigencia,
                taxpayer_pseudonym,
                dateDiff('day', due_date, toDate({corte:DateTime})) AS dias,
                multiIf(dias <= 90, '1. hasta 90 días',
                        dias <= 180, '2. 91 a 180 días',
                        dias <= 360, '3. 181 a 360 días',
                        dias <= 1080, '4. 1 a 3 años',
                        '5. más de 3 años') AS edad,
                billed_total
            FROM liquidations FINAL
            PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
            WHERE due_date < toDate({corte:DateTime})
        ) AS l
        ANY LEFT JOIN
        (
            SELECT liquidation_id, sum(amount) AS pagado
            FROM payments FINAL
            PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
            GROUP BY liquidation_id
        ) AS p USING liquidation_id
        WHERE billed_total - pagado > 0
        GROUP BY code, impuesto, vigencia, edad, taxpayer_pseudonym
        HAVING s > 0
    ) AS t
    GROUP BY code, codigo_municipio, impuesto, vigencia, edad
) AS c
ANY LEFT JOIN
(
    SELECT code, name AS municipio FROM entities
) AS e USING code
