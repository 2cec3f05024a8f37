-- Avance de Gobierno en Línea / Gobierno Digital por entidad, marco, fase y fecha de medición (promedio de los criterios).
-- GEL / Gobierno Digital progress: the mean of the criteria measured for an
-- entity, framework and phase on a date. Public data about entities.
SELECT
    codigo_entidad,
    ifNull(entidad, '') AS entidad,
    marco,
    fase,
    fecha,
    criterios,
    avance,
    sintetico
FROM
(
    SELECT
        entity_code AS code,
        entity_code AS codigo_entidad,
        framework AS marco,
        phase AS fase,
        measured_on AS fecha,
        toUInt32(count()) AS criterios,
        toDecimal64(sum(value) / count(), 4) AS avance,
        toUInt8(max(synthetic)) AS sintetico
    FROM gel_measurements FINAL
    PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
    GROUP BY code, codigo_entidad, marco, fase, fecha
) AS g
ANY LEFT JOIN
(
    SELECT code, name AS entidad FROM entities
) AS e USING code
