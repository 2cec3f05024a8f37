-- Índice de Gobierno Digital publicado (FURAG) de una entidad por vigencia e índice, con el promedio de su grupo par.
-- The Índice de Gobierno Digital rows of an entity (by DIVIPOLA code) as
-- published, with the peer-group average the file gives and, to compare,
-- the mean of the loaded entities of the same peer group (promedio_cargado).
-- Parameters: entidad, vigencia (0 = all), corte.
SELECT
    year AS vigencia, index_name AS indice, sigep_code AS codigo_sigep, entity_name AS entidad, peer_group AS grupo_par,
    score AS puntaje, peer_average AS promedio_grupo_par, promedio_cargado, entidades_grupo, synthetic AS sintetico
FROM
(
    SELECT year, index_name, sigep_code, entity_name, peer_group, score, peer_average, synthetic
    FROM gel_index_scores FINAL
    WHERE entity_code = {entidad:String}
      AND ({vigencia:UInt16} = 0 OR year = {vigencia:UInt16})
      AND run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
) AS s
ANY LEFT JOIN
(
    SELECT year, index_name, peer_group,
        toDecimal64(toString(round(avg(toFloat64(score)), 4)), 4) AS promedio_cargado,
        toUInt32(count()) AS entidades_grupo
    FROM gel_index_scores FINAL
    WHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
    GROUP BY year, index_name, peer_group
) AS g USING (year, index_name, peer_group)
ORDER BY vigencia DESC, indice
