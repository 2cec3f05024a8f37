-- Liquidaciones registro a registro para publicar: seudónimos en lugar de identificadores, montos en rangos, sin nombres ni direcciones.
-- Record-level liquidations for publication. Only rows of ETL runs committed
-- up to the cut-off (one consistent snapshot): {saldos} holds each
-- liquidation of it with what was paid for it (saldos_liquidaciones.sql).
-- Identifiers leave only as keyed pseudonyms: id_registro hashes the
-- source's liquidation number together with the taxpayer's HMAC pseudonym
-- (so it cannot be recomputed by enumerating liquidation numbers),
-- contribuyente hashes the HMAC pseudonym with the tax year (links one
-- taxpayer's liquidations within a year, not across years). Amounts are
-- banded. datasets.Publish adds k-anonymity over the quasi-identifiers
-- declared in the catalog.
SELECT
    id_registro,
    contribuyente,
    codigo_municipio,
    ifNull(municipio, '') AS municipio,
    impuesto,
    vigencia,
    tipo_contribuyente,
    canal_radicacion,
    rango_base,
    rango_facturado,
    estado_verificacion,
    estado_pago
FROM
(
    SELECT
        code,
        id_registro,
        contribuyente,
        code AS codigo_municipio,
        impuesto,
        vigencia,
        tipo_contribuyente,
        canal_radicacion,
        rango_base,
        rango_facturado,
        estado_verificacion,
        multiIf(pagado <= 0, 'sin pago', pagado >= facturado, 'pagada', 'parcial') AS estado_pago
    FROM
    (
        SELECT
            municipality_code AS code,
            substring(lower(hex(SHA256(concat('liquidacion|', liquidation_id, '|', taxpayer_pseudonym)))), 1, 24) AS id_registro,
            substring(lower(hex(SHA256(concat('contribuyente|', toString(tax_year), '|', taxpayer_pseudonym)))), 1, 24) AS contribuyente,
            tax AS impuesto,
            tax_year AS vigencia,
            taxpayer_kind AS tipo_contribuyente,
            filing_channel AS canal_radicacion,
            multiIf(base_amount < 10000000, 'menos de 10 millones',
                    base_amount < 50000000, '10 a 50 millones',
                    base_amount < 200000000, '50 a 200 millones',
                    base_amount < 1000000000, '200 a 1.000 millones',
                    'más de 1.000 millones') AS rango_base,
            multiIf(billed_total < 500000, 'menos de 500 mil',
                    billed_total < 2000000, '500 mil a 2 millones',
                    billed_total < 10000000, '2 a 10 millones',
                    'más de 10 millones') AS rango_facturado,
            multiIf(verification_status = 'match', 'coincide',
                    verification_status = 'rounding', 'redondeo',
                    verification_status = 'discrepancy', 'discrepancia',
                    verification_status = 'unverifiable', 'no verificable',
                    'pendiente') AS estado_verificacion,
            billed_total AS facturado,
            pagado
        FROM {saldos:Identifier}
    ) AS l
) AS r
ANY LEFT JOIN
(
    SELECT code, name AS municipio FROM entities
) AS e USING code
