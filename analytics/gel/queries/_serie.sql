-- Fragmento (no es una consulta): avance de cada fase por entidad en cada fecha de medición hasta la fecha pedida.
-- Fragment "serie": for each entity, framework and phase,
-- its progress on each date it was measured up to {fecha}. On a date t
-- each criterion keeps its latest measurement on or before t; the phase's
-- progress is then its own measurement (criterion 'total', "global") when
-- that is at least as recent as the newest criterion measurement, else
-- the mean of its measured criteria, each as a percentage of its target
-- capped at 100 ("criterios"). Criteria never measured are not counted
-- (criterios says how many were). Parameters: marco, entidad, fecha, corte.
-- Columns: entity_code, framework, phase, fecha, avance (0-100), fuente,
-- criterios, cumplidos, meta, plazo (Nullable), sintetico.
SELECT
    entity_code, framework, phase, t AS fecha,
    toDecimal64(toString(round(if(has_total AND d_total >= d_crit, total_pct, crit_pct), 4)), 4) AS avance,
    if(has_total AND d_total >= d_crit, 'global', 'criterios') AS fuente,
    criterios, cumplidos, meta, plazo, sintetico
FROM
(
    SELECT
        entity_code, framework, phase, t,
        countIf(criterion = 'total') > 0 AS has_total,
        maxIf(d, criterion = 'total') AS d_total,
        maxIf(d, criterion != 'total') AS d_crit,
        anyIf(lpct, criterion = 'total') AS total_pct,
        avgIf(lpct, criterion != 'total') AS crit_pct,
        toUInt32(countIf(criterion != 'total')) AS criterios,
        toUInt32(countIf(criterion != 'total' AND lmet = 1)) AS cumplidos,
        any(ptarget) AS meta,
        any(pdeadline) AS plazo,
        toUInt8(max(syn)) AS sintetico
    FROM
    (
        SELECT
            entity_code, framework, phase, t, criterion,
            argMax(pct, measured_on) AS lpct,
            argMax(met, measured_on) AS lmet,
            max(measured_on) AS d,
            argMax(synthetic, measured_on) AS syn,
            any(phase_target) AS ptarget,
            any(phase_deadline) AS pdeadline
        FROM
        (
            SELECT entity_code, framework, phase, criterion, measured_on, pct, met, synthetic, phase_target, phase_deadline, t
            FROM ({{medidas}}) AS m
            ALL INNER JOIN ({{fechas}}) AS f USING (entity_code, framework, phase)
            WHERE measured_on <= t
        ) AS mf
        GROUP BY entity_code, framework, phase, t, criterion
    ) AS c
    GROUP BY entity_code, framework, phase, t
) AS s
