-- Nombre y departamento de una entidad según la DIVIPOLA (para las páginas de seguimiento).
-- One entity of the DIVIPOLA list: a municipality (5 digits) or, for dd000,
-- its department. existe = 0 when the code is not in the list. Parameters:
-- entidad.
SELECT
    {entidad:String} AS codigo_entidad,
    if(endsWith({entidad:String}, '000'), dep_name, muni_name) AS entidad,
    substring({entidad:String}, 1, 2) AS codigo_departamento,
    dep_name AS departamento,
    toUInt8(if(endsWith({entidad:String}, '000'), n_dep, n_muni) > 0) AS existe
FROM
(
    SELECT 1 AS k, any(name) AS muni_name, count() AS n_muni
    FROM entities FINAL WHERE code = {entidad:String}
) AS m
ANY LEFT JOIN
(
    SELECT 1 AS k, any(department_name) AS dep_name, count() AS n_dep
    FROM entities FINAL WHERE department_code = substring({entidad:String}, 1, 2)
) AS d USING k
