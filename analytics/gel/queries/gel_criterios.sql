-- Estado de cada criterio medido de una entidad en una fecha: último valor, evidencia y cumplimiento frente a la meta y el plazo.
-- Each measured criterion (and each phase's own 'total' measurement) of
-- one entity as of {fecha}: its latest value, date, evidence and source,
-- its target and deadline, and its status with the rule of the phases
-- (cumplido_el: first date it reached the target, if it meets it now).
-- catalogado = 0 marks names the catalog does not know (texto_fuente says
-- what the source wrote). Criteria of the catalog never measured are not
-- here (gel.EntityReport adds them). Parameters: marco, entidad, fecha, corte.
SELECT
    framework AS marco,
    phase AS fase,
    criterion AS criterio,
    if(nombre_k = '', lab, nombre_k) AS nombre,
    transform(concat(framework, '|', phase, '|', criterion), {{crit_ids}}, {{crit_grupos}}, '') AS grupo,
    toUInt16(multiIf(criterion = 'total', 0, pos_k = 0, 999, pos_k)) AS posicion,
    lab AS texto_fuente,
    catalogado, valor, fecha_medicion, evidencia, fuente, meta, plazo,
    if(cumplido = 1, toNullable(primera), CAST(NULL AS Nullable(Date))) AS cumplido_el,
    multiIf(
        cumplido = 1 AND isNull(plazo), 'cumplida',
        cumplido = 1 AND primera <= ifNull(plazo, toDate('2100-01-01')), 'cumplida_a_tiempo',
        cumplido = 1, 'cumplida_tarde',
        isNull(plazo), 'sin_plazo',
        {fecha:Date} > ifNull(plazo, toDate('2100-01-01')), 'vencida',
        'pendiente') AS estado,
    sintetico
FROM
(
    SELECT
        framework, phase, criterion,
        any(label) AS lab,
        max(in_catalog) AS catalogado,
        argMax(value, measured_on) AS valor,
        max(measured_on) AS fecha_medicion,
        argMax(evidence_url, measured_on) AS evidencia,
        argMax(source, measured_on) AS fuente,
        any(target) AS meta,
        any(deadline) AS plazo,
        argMax(met, measured_on) AS cumplido,
        minIf(measured_on, met = 1) AS primera,
        toUInt8(max(synthetic)) AS sintetico,
        transform(concat(framework, '|', phase, '|', criterion), {{crit_ids}}, {{crit_nombres}}, '') AS nombre_k,
        transform(concat(framework, '|', phase, '|', criterion), {{crit_ids}}, {{crit_posiciones}}, 0) AS pos_k
    FROM ({{medidas}}) AS m
    WHERE measured_on <= {fecha:Date}
    GROUP BY framework, phase, criterion
) AS c
ORDER BY marco, fase, posicion, criterio
