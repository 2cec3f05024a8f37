-- Recaudo por año de pago, municipio y grupo de impuesto (predial; ICA con ReteICA), para compararlo con el presupuesto del FUT.
-- Collected amounts per year of payment, municipality and tax group as the
-- FUT budget lines group them: predial, and ica (ICA plus ReteICA
-- withholdings). These cells are sums of the monthly cells of
-- ds_recaudo_mensual_pagos.
SELECT
    anio,
    codigo_entidad,
    impuesto,
    recaudo,
    contribuyentes,
    top1,
    top2
FROM
(
    SELECT
        anio,
        code AS codigo_entidad,
        impuesto,
        sum(s) AS recaudo,
        count() AS contribuyentes,
        arrayReverseSort(groupArray(toFloat64(s))) AS aportes,
        arrayElement(aportes, 1) AS top1,
        arrayElement(aportes, 2) AS top2
    FROM
    (
        SELECT toYear(paid_date) AS anio, municipality_code AS code, if(tax = 'predial', 'predial', 'ica') AS impuesto,
               taxpayer_pseudonym, sum(amount) AS s
        FROM payments FINAL
        PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
        GROUP BY anio, code, impuesto, taxpayer_pseudonym
    ) AS t
    GROUP BY anio, codigo_entidad, impuesto
) AS c
