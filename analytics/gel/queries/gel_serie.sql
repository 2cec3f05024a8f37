-- Evolución del avance de cada fase por entidad: el avance en cada fecha de medición hasta una fecha (Gobierno en Línea / Gobierno Digital).
-- The trend: each entity's progress per phase on every date it was
-- measured up to {fecha} (see _serie.sql for the rule). Public data about
-- entities; this is the series behind the GEL dataset and dashboard.
-- Parameters: marco ('' = all), entidad ('' = all), fecha, corte
-- (ETL runs committed up to then; gel.NoCutoff: all).
SELECT
    entity_code AS codigo_entidad,
    entidad,
    if(dep_e = '', substring(entity_code, 1, 2), dep_e) AS codigo_departamento,
    departamento,
    framework AS marco,
    phase AS fase,
    if(nombre_p = '', phase, nombre_p) AS fase_nombre,
    toUInt16(if(pos_p = 0, 999, pos_p)) AS posicion,
    fecha, avance, fuente, criterios, cumplidos, meta, plazo, sintetico
FROM
(
    SELECT
        entity_code, framework, phase, fecha, avance, fuente, criterios, cumplidos, meta, plazo, sintetico,
        transform(concat(framework, '|', phase), {{fase_ids}}, {{fase_nombres}}, '') AS nombre_p,
        transform(concat(framework, '|', phase), {{fase_ids}}, {{fase_posiciones}}, 0) AS pos_p
    FROM ({{serie}}) AS x
) AS sp
ANY LEFT JOIN
(
    SELECT code AS entity_code, name AS entidad, department_code AS dep_e, department_name AS departamento
    FROM entities FINAL
) AS e USING entity_code
ORDER BY codigo_entidad, marco, posicion, fase, fecha
