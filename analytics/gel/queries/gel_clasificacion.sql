-- Clasificación de las entidades por avance en un marco o una fase en una fecha, en el país y en su departamento, con los promedios.
-- Ranking as of {fecha}: each entity's score is its progress in phase
-- {fase} of framework {marco}, or with {fase} = '' the mean of its
-- progress over all the framework's phases (a phase never measured counts
-- 0). Ranks are competition ranks: 1 + the number of entities with a
-- strictly higher score, so ties share a rank and the next rank skips
-- (1, 2, 2, 4), nationally (puesto) and within the department
-- (puesto_departamento). promedio_nacional and promedio_departamento are
-- the mean scores of the entities ranked. Departments' own rows (dd000)
-- are left out. {departamento} ('' = all) filters the rows returned, not
-- the ranking. entidad must be '' (it filters the measurements read).
-- Parameters: marco, fase, entidad, fecha, corte, departamento.
SELECT
    code AS codigo_entidad,
    entidad,
    dep AS codigo_departamento,
    departamento,
    puntaje,
    toUInt32(arrayCount(x -> x > puntaje, ps) + 1) AS puesto,
    toUInt32(length(ps)) AS entidades,
    toUInt32(arrayCount((x, d) -> x > puntaje AND d = dep, ps, deps) + 1) AS puesto_departamento,
    toUInt32(arrayCount(d -> d = dep, deps)) AS entidades_departamento,
    toDecimal64(toString(round(arraySum(arrayMap(x -> toFloat64(x), ps)) / length(ps), 4)), 4) AS promedio_nacional,
    toDecimal64(toString(round(arraySum(arrayMap((x, d) -> if(d = dep, toFloat64(x), 0.), ps, deps)) / arrayCount(d -> d = dep, deps), 4)), 4) AS promedio_departamento,
    fases_medidas,
    ultima_medicion,
    sintetico
FROM
(
    SELECT
        groupArray(code) AS codes, groupArray(puntaje) AS ps, groupArray(dep) AS deps,
        groupArray(entidad) AS names, groupArray(departamento) AS dnames,
        groupArray(fases_medidas) AS fms, groupArray(ultima_medicion) AS ums, groupArray(syn) AS syns
    FROM
    (
        SELECT
            code, puntaje, fases_medidas, ultima_medicion, syn, entidad, departamento,
            if(department_code = '', substring(code, 1, 2), department_code) AS dep
        FROM
        (
            SELECT
                entity_code AS code,
                toDecimal64(toString(round(sum(toFloat64(avance)) / if({fase:String} = '',
                    greatest(transform({marco:String}, {{marcos}}, {{marco_fases}}, 0), 1), 1), 4)), 4) AS puntaje,
                toUInt32(count()) AS fases_medidas,
                max(fecha_medicion) AS ultima_medicion,
                toUInt8(max(sintetico)) AS syn
            FROM ({{fases}}) AS f
            WHERE NOT endsWith(entity_code, '000')
              AND (({fase:String} = '' AND has({{fase_ids}}, concat(framework, '|', phase))) OR phase = {fase:String})
            GROUP BY code
        ) AS s
        ANY LEFT JOIN
        (
            SELECT code, name AS entidad, department_code, department_name AS departamento FROM entities FINAL
        ) AS e USING code
    ) AS n
) AS g
ARRAY JOIN codes AS code, ps AS puntaje, deps AS dep, names AS entidad, dnames AS departamento,
    fms AS fases_medidas, ums AS ultima_medicion, syns AS sintetico
WHERE {departamento:String} = '' OR dep = {departamento:String}
ORDER BY puesto, codigo_entidad
