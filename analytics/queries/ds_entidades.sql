-- Municipios, áreas no municipalizadas y departamentos de Colombia con su código DIVIPOLA del DANE.
-- DANE's DIVIPOLA list as loaded in the warehouse.
SELECT
    code AS codigo,
    department_code AS codigo_departamento,
    department_name AS departamento,
    name AS nombre,
    kind AS tipo
FROM entities FINAL
