-- Fragmento (no es una consulta): avance y estado de cada fase por entidad en la fecha pedida.
-- Fragment "fases": each entity's phases as of {fecha} (only
-- phases with at least one measurement up to then). estado, against the
-- phase's deadline: cumplida_a_tiempo (progress reached the target on or
-- before the deadline), cumplida_tarde (after it), cumplida (no deadline),
-- vencida (the deadline passed without reaching it), pendiente (not
-- reached, deadline still ahead) or sin_plazo (not reached, no deadline).
-- Same rule as gel.PhaseStatus. cumplida_el is the first measurement date
-- on which the phase reached its target (NULL if it has not). Parameters:
-- marco, entidad, fecha, corte.
SELECT
    entity_code, framework, phase,
    a AS avance, fu AS fuente, cr AS criterios, cu AS cumplidos, fecha_medicion, m AS meta, pl AS plazo, sy AS sintetico,
    if(a >= m, toNullable(primera), CAST(NULL AS Nullable(Date))) AS cumplida_el,
    multiIf(
        a >= m AND isNull(pl), 'cumplida',
        a >= m AND primera <= ifNull(pl, toDate('2100-01-01')), 'cumplida_a_tiempo',
        a >= m, 'cumplida_tarde',
        isNull(pl), 'sin_plazo',
        {fecha:Date} > ifNull(pl, toDate('2100-01-01')), 'vencida',
        'pendiente') AS estado
FROM
(
    SELECT
        entity_code, framework, phase,
        argMax(avance, fecha) AS a,
        argMax(fuente, fecha) AS fu,
        argMax(criterios, fecha) AS cr,
        argMax(cumplidos, fecha) AS cu,
        max(fecha) AS fecha_medicion,
        any(meta) AS m,
        any(plazo) AS pl,
        minIf(fecha, avance >= meta) AS primera,
        toUInt8(max(sintetico)) AS sy
    FROM ({{serie}}) AS s
    GROUP BY entity_code, framework, phase
) AS f
