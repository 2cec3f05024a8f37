-- Avance y estado de cada fase por entidad en una fecha, frente a los plazos del marco (Gobierno en Línea / Gobierno Digital).
-- Progress and status of each phase per entity as of {fecha} (see
-- _fases.sql for the rule), with names. Only phases measured at least once
-- up to {fecha}; a phase never measured has progress 0 (gel.EntityReport
-- adds it from the catalog). Parameters: marco ('' = all), entidad
-- ('' = all), fecha, corte (gel.NoCutoff: every committed run).
SELECT
    entity_code AS codigo_entidad,
    entidad,
    if(dep_e = '', substring(entity_code, 1, 2), dep_e) AS codigo_departamento,
    departamento,
    framework AS marco,
    phase AS fase,
    if(nombre_p = '', phase, nombre_p) AS fase_nombre,
    toUInt16(if(pos_p = 0, 999, pos_p)) AS posicion,
    avance, fuente, criterios, cumplidos, fecha_medicion, meta, plazo, cumplida_el, estado, sintetico
FROM
(
    SELECT
        entity_code, framework, phase, avance, fuente, criterios, cumplidos, fecha_medicion, meta, plazo, cumplida_el, estado, sintetico,
        transform(concat(framework, '|', phase), {{fase_ids}}, {{fase_nombres}}, '') AS nombre_p,
        transform(concat(framework, '|', phase), {{fase_ids}}, {{fase_posiciones}}, 0) AS pos_p
    FROM ({{fases}}) AS x
) AS fp
ANY LEFT JOIN
(
    SELECT code AS entity_code, name AS entidad, department_code AS dep_e, department_name AS departamento
    FROM entities FINAL
) AS e USING entity_code
ORDER BY codigo_entidad, marco, posicion, fase
