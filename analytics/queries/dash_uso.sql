-- Visitas y descargas por mes, de los tableros y de los conjuntos de datos (tablero El observatorio).
-- Views and downloads per month and item: dashboards (dashboard_stats, kept
-- by package dashboards) and published datasets (dataset_stats, kept by
-- package datasets). Counts only, no personal data.
SELECT
    mes,
    tipo,
    elemento,
    sum(vistas) AS vistas,
    sum(descargas) AS descargas
FROM
(
    SELECT toStartOfMonth(day) AS mes, 'tablero' AS tipo, dashboard AS elemento, views AS vistas, downloads AS descargas
    FROM dashboard_stats
    UNION ALL
    SELECT toStartOfMonth(day) AS mes, 'conjunto' AS tipo, dataset AS elemento, views AS vistas, downloads AS descargas
    FROM dataset_stats
) AS u
GROUP BY mes, tipo, elemento
ORDER BY mes, tipo, elemento
