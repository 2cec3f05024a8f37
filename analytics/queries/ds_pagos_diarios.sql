-- Pagos por día, municipio, impuesto y canal, con lo necesario para el control de divulgación (contribuyentes distintos y los dos mayores aportes).
-- Payment cells by day, municipality, tax and channel, from the ETL runs
-- committed up to {corte}. contribuyentes, top1 and top2 (the two largest
-- amounts paid by one taxpayer in the cell) feed the k and (2, 85)
-- dominance rules that datasets.Publish applies; they are never published.
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
               taxpayer_pseudonym, count() AS n, sum(amount) AS s
        FROM payments FINAL
        PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
        GROUP BY fecha, code, impuesto, canal, taxpayer_pseudonym
    ) AS t
    GROUP BY fecha, code, codigo_municipio, impuesto, canal
) AS c
ANY LEFT JOIN
(
    SELECT code, name AS municipio FROM entities
) AS e USING code
