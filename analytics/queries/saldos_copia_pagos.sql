-- Los pagos de las ejecuciones confirmadas hasta una fecha, con la tajada de su liquidación, para construir los saldos.
-- Every payment of the ETL runs committed up to {corte}, dated up to
-- {pagos_hasta}, with the slice of the liquidation it pays (the same hash as
-- saldos_copia_liquidaciones). analytics.BuildBalances copies them once
-- into a scratch table ordered by the slice, like the liquidations.
SELECT
    toUInt32(cityHash64(liquidation_id) % {partes:UInt64}) AS parte,
    municipality_code,
    liquidation_id,
    amount
FROM payments FINAL
PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
WHERE paid_date <= {pagos_hasta:Date}
