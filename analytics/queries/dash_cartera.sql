-- Cartera (saldos vencidos sin pagar) por vigencia, municipio, impuesto y edad de la mora a una fecha de corte (tablero Cartera).
-- Arrears at {corte}: for every liquidation due before the cut-off date,
-- billed total minus what was paid up to that date; positive balances are
-- summed per tax year, municipality, tax and age band (days past due:
-- 1 = 1-90, 2 = 91-180, 3 = 181-365, 4 = 366-730, 5 = 731-1825, 6 = more
-- than 1825, i.e. beyond the five years of Estatuto Tributario art. 817).
-- Balances of cells with fewer than {k} distinct taxpayers are NULL.
-- {saldos} holds each liquidation of the committed runs with what was paid
-- for it up to {corte} (saldos_liquidaciones.sql).
SELECT
    vigencia,
    codigo_municipio,
    impuesto,
    tramo,
    liquidaciones,
    if(contribuyentes >= {k:UInt64}, saldo, NULL) AS saldo
FROM
(
    SELECT
        tax_year AS vigencia,
        municipality_code AS codigo_municipio,
        tax AS impuesto,
        multiIf(dias <= 90, 1, dias <= 180, 2, dias <= 365, 3, dias <= 730, 4, dias <= 1825, 5, 6) AS tramo,
        count() AS liquidaciones,
        sum(pendiente) AS saldo,
        uniqUpTo(100)(taxpayer_pseudonym) AS contribuyentes
    FROM
    (
        SELECT
            tax_year,
            municipality_code,
            tax,
            taxpayer_pseudonym,
            toRelativeDayNum({corte:Date}) - toRelativeDayNum(due_date) AS dias,
            billed_total - pagado AS pendiente
        FROM {saldos:Identifier}
        WHERE due_date < {corte:Date} AND pendiente > 0
    ) AS d
    GROUP BY vigencia, codigo_municipio, impuesto, tramo
) AS c
ORDER BY vigencia, codigo_municipio, impuesto, tramo
