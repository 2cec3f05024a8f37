-- Cada liquidación con lo pagado por ella (una tajada de las liquidaciones), base de la cartera y del estado de pago.
-- Every liquidation of the ETL runs committed up to {corte}, with the sum of
-- its payments dated up to {pagos_hasta} (0 when it has none). A payment
-- counts for the liquidation of its municipality with its number.
-- analytics.BuildBalances runs it once per slice of the liquidations into a
-- scratch table ({partes} slices by a hash of the liquidation number, this
-- one {parte}), which ds_liquidaciones, ds_cartera and dash_cartera read as
-- {saldos}: the join's right side, the payments summed per liquidation,
-- then holds one slice's payments. In one statement it reached 187 MB at
-- 1.1M liquidations and their payments, past the engine's join limit
-- (etl/BENCHMARKS.md, "Session 12").
-- The liquidation's columns, then pagado.
SELECT *
FROM
(
    SELECT
        municipality_code,
        liquidation_id,
        tax,
        tax_year,
        taxpayer_pseudonym,
        taxpayer_kind,
        filing_channel,
        due_date,
        base_amount,
        billed_total,
        verification_status
    FROM liquidations FINAL
    PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
    WHERE cityHash64(liquidation_id) % {partes:UInt64} = {parte:UInt64}
) AS l
ANY LEFT JOIN
(
    SELECT municipality_code, liquidation_id, sum(amount) AS pagado
    FROM payments FINAL
    PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
    WHERE paid_date <= {pagos_hasta:Date} AND cityHash64(liquidation_id) % {partes:UInt64} = {parte:UInt64}
    GROUP BY municipality_code, liquidation_id
) AS p USING (municipality_code, liquidation_id)
