-- Conjuntos de datos publicados: última versión de cada uno, con su fecha, filas y celdas suprimidas (tablero El observatorio).
-- Published datasets: the latest release of each (dataset_releases, written
-- by package datasets), when it was made, its rows and how many aggregate
-- cells the disclosure control withheld.
SELECT
    dataset AS conjunto,
    max(release) AS version,
    argMax(created_at, release) AS publicado,
    argMax(rows, release) AS filas,
    argMax(suppressed_cells, release) AS celdas_suprimidas
FROM dataset_releases FINAL
GROUP BY conjunto
ORDER BY conjunto
