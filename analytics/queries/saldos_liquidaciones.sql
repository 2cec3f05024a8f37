-- Cada liquidación con lo pagado por ella (una tajada de las liquidaciones), base de la cartera y del estado de pago.
-- One slice of the liquidations ({parte}), with the sum of their payments
-- (0 when they have none), from the copies analytics.BuildBalances makes
-- of the liquidations ({liquidaciones}, saldos_copia_liquidaciones) and of
-- the payments ({pagos}, saldos_copia_pagos), both ordered by the slice. A
-- payment counts for the liquidation of its municipality with its number.
-- BuildBalances runs it once per slice into a scratch table, which
-- ds_liquidaciones, ds_cartera and dash_cartera read as {saldos}: the
-- join's right side, the payments summed per liquidation, then holds one
-- slice's payments. In one statement it reached 187 MB at 1.1M
-- liquidations and their payments, past the engine's join limit
-- (etl/BENCHMARKS.md, "Session 12").
-- The copy's columns (the slice, then the liquidation's), then pagado: the
-- queries that read {saldos} name the columns they use.
SELECT *
FROM
(
    SELECT *
    FROM {liquidaciones:Identifier}
    WHERE parte = {parte:UInt32}
) AS l
ANY LEFT JOIN
(
    SELECT municipality_code, liquidation_id, sum(amount) AS pagado
    FROM {pagos:Identifier}
    WHERE parte = {parte:UInt32}
    GROUP BY municipality_code, liquidation_id
) AS p USING (municipality_code, liquidation_id)
