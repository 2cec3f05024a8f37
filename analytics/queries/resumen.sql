-- Cifras generales del almacén para la portada.
-- Headline counts for the home page.
SELECT
    (SELECT count() FROM liquidations FINAL) AS liquidaciones,
    (SELECT count() FROM payments FINAL) AS pagos,
    (SELECT count() FROM entities WHERE length(code) = 5) AS municipios,
    (SELECT uniqExact(municipality_code) FROM liquidations) AS municipios_con_datos,
    (SELECT max(finished_at) FROM etl_runs WHERE status = 'committed') AS ultima_carga
