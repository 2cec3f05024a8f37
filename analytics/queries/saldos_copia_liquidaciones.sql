-- Las liquidaciones de las ejecuciones confirmadas, con su tajada, para construir los saldos tajada por tajada.
-- Every liquidation of the ETL runs committed up to {corte}, with the slice
-- it falls in ({partes} slices by a hash of its number) first.
-- analytics.BuildBalances copies them once into a scratch table ordered by
-- the slice, so that each slice of saldos_liquidaciones reads its own rows
-- only: read from liquidations, each of the 47 slices at 19.8M read every
-- liquidation's columns to keep 1/47 of them (etl/BENCHMARKS.md,
-- "Session 14").
SELECT
    toUInt32(cityHash64(liquidation_id) % {partes:UInt64}) AS parte,
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
