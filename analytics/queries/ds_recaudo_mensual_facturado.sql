-- Facturado por mes de emisión, municipio e impuesto, con contribuyentes distintos y los dos mayores aportes para el control de divulgación.
-- Billed amounts per month of issue, municipality and tax, from the ETL runs
-- committed up to {corte}.
SELECT
    mes,
    codigo_municipio,
    ifNull(municipio, '') AS municipio,
    impuesto,
    liquidaciones,
    facturado,
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
        sum(n) AS liquidaciones,
        sum(s) AS facturado,
        count() AS contribuyentes,
        arrayReverseSort(groupArray(toFloat64(s))) AS aportes,
        arrayElement(aportes, 1) AS top1,
        arrayElement(aportes, 2) AS top2
    FROM
    (
        SELECT toStartOfMonth(issue_date) AS mes, municipality_code AS code, tax AS impuesto,
               taxpayer_pseudonym, count() AS n, sum(billed_total) AS s
        FROM liquidations FINAL
        PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
        GROUP BY mes, code, impuesto, taxpayer_pseudonym
    ) AS t
    GROUP BY mes, code, codigo_municipio, impuesto
) AS c
ANY LEFT JOIN
(
    SELECT code, name AS municipio FROM entities
) AS e USING code
