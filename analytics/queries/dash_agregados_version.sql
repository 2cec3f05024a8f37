-- Versión vigente de los agregados de los tableros, con el sello de cargas y la fecha de corte con que se calculó.
-- The dashboards' current aggregates version (0 when none was computed
-- yet), with the ETL stamp and the cut-off date it was computed at.
SELECT
    max(version) AS version_vigente,
    argMax(stamp, version) AS sello,
    argMax(cutoff, version) AS corte,
    count() AS versiones
FROM dashboard_aggregates FINAL
