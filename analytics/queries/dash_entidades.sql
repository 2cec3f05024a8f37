-- Municipios y áreas de la DIVIPOLA, con su departamento, para buscar y nombrar en los tableros.
-- DIVIPOLA municipalities for the dashboards' search and labels; departments
-- (2-digit codes) are left out.
SELECT
    code AS codigo,
    name AS nombre,
    department_name AS departamento,
    kind AS tipo
FROM entities FINAL
WHERE length(code) = 5
ORDER BY codigo
