-- Fragmento (no es una consulta): las fechas de medición de cada entidad, marco y fase.
-- Fragment "fechas": the distinct dates on which each entity, framework
-- and phase (resolved as in "medidas") was measured, up to {fecha}.
-- Parameters: marco, entidad, fecha, corte.
SELECT DISTINCT entity_code, framework, if(k_phase = '', praw, k_phase) AS phase, measured_on AS t
FROM
(
    SELECT entity_code, framework, praw, measured_on,
        transform(concat(framework, '|', praw), {{fase_desde}}, {{fase_hacia}}, '') AS k_phase
    FROM ({{base}}) AS b0
    WHERE measured_on <= {fecha:Date}
) AS b1
