-- Recaudo mensual por municipio e impuesto, a partir de los pagos.
-- Monthly collections per municipality and tax, from payments.
-- Cells paid by fewer than {k} distinct taxpayers are suppressed (amount
-- NULL, suprimido = 1): a month's total of one or two payers would reveal
-- what they paid.
SELECT
    mes,
    codigo_municipio,
    municipio,
    impuesto,
    pagos,
    if(contribuyentes >= {k:UInt64}, recaudo, NULL) AS recaudo,
    if(contribuyentes >= {k:UInt64}, 0, 1) AS suprimido
FROM
(
    SELECT
        toStartOfMonth(paid_date) AS mes,
        municipality_code AS code,
        municipality_code AS codigo_municipio,
        tax AS impuesto,
        count() AS pagos,
        uniqExact(taxpayer_pseudonym) AS contribuyentes,
        sum(amount) AS recaudo
    FROM payments FINAL
    WHERE paid_date >= {desde:Date} AND paid_date < {hasta:Date}
    GROUP BY mes, code, codigo_municipio, impuesto
) AS p
ANY LEFT JOIN
(
    SELECT code, name AS municipio FROM entities
) AS e USING code
ORDER BY mes, codigo_municipio, impuesto
