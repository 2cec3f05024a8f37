-- Entidades con mediciones de Gobierno en Línea / Gobierno Digital: marcos, número de mediciones y última fecha medida.
-- Entities with measurements, per framework: how many measurements, the
-- first and last dates, and whether any is synthetic. For the index of
-- the officials' pages. Parameters: corte.
SELECT
    entity_code AS codigo_entidad, entidad,
    if(dep_e = '', substring(entity_code, 1, 2), dep_e) AS codigo_departamento,
    departamento, framework AS marco, mediciones, primera_medicion, ultima_medicion, sintetico
FROM
(
    SELECT entity_code, framework, toUInt32(count()) AS mediciones, min(measured_on) AS primera_medicion,
        max(measured_on) AS ultima_medicion, toUInt8(max(synthetic)) AS sintetico
    FROM
    (
        SELECT entity_code, framework, measured_on, synthetic FROM gel_measurements FINAL
        WHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
        UNION ALL
        SELECT entity_code, 'igd' AS framework, toDate(concat(toString(year), '-12-31')) AS measured_on, synthetic
        FROM gel_index_scores FINAL
        WHERE entity_code != '' AND run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
    ) AS m
    GROUP BY entity_code, framework
) AS c
ANY LEFT JOIN
(
    SELECT code AS entity_code, name AS entidad, department_code AS dep_e, department_name AS departamento
    FROM entities FINAL
) AS e USING entity_code
ORDER BY codigo_entidad, marco
