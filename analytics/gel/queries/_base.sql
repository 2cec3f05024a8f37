-- Fragmento (no es una consulta): las mediciones de las cargas confirmadas, con los nombres de fase y criterio normalizados.
-- Fragment "base": measurements of committed ETL runs (gel_measurements,
-- plus the Índice de Gobierno Digital of gel_index_scores as framework
-- 'igd', criterion 'total', dated 31 December of the vigencia), with the
-- source's phase and criterion names as keys: praw and ckey are gel.PhaseKey
-- and gel.Key of them (lower case, accents folded, other characters as
-- single "-", no leading "fase de" for phases); change both together.
-- Parameters: marco and entidad ('' = all); corte: only ETL runs committed
-- up to then (gel.NoCutoff for all), so a dataset release is a snapshot.
SELECT
    entity_code, framework, criterion AS label, measured_on, toDecimal64(value, 4) AS v4, unit, evidence_url, synthetic, source,
    replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(lowerUTF8(phase), 'á', 'a'), 'é', 'e'), 'í', 'i'), 'ó', 'o'), 'ú', 'u'), 'ü', 'u'), 'ñ', 'n'), 'à', 'a'), 'è', 'e'), 'ì', 'i'), 'ò', 'o'), 'ù', 'u'), '[^a-z0-9]+', '-'), '^-+|-+$', ''), '^fase-(de-)?', '') AS praw,
    replaceRegexpAll(replaceRegexpAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(lowerUTF8(criterion), 'á', 'a'), 'é', 'e'), 'í', 'i'), 'ó', 'o'), 'ú', 'u'), 'ü', 'u'), 'ñ', 'n'), 'à', 'a'), 'è', 'e'), 'ì', 'i'), 'ò', 'o'), 'ù', 'u'), '[^a-z0-9]+', '-'), '^-+|-+$', '') AS ckey
FROM gel_measurements FINAL
WHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
  AND ({marco:String} = '' OR framework = {marco:String})
  AND ({entidad:String} = '' OR entity_code = {entidad:String})
UNION ALL
SELECT
    entity_code, 'igd' AS framework, 'total' AS label, toDate(concat(toString(year), '-12-31')) AS measured_on,
    toDecimal64(score, 4) AS v4, 'score' AS unit, '' AS evidence_url, synthetic, source,
    replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(lowerUTF8(index_name), 'á', 'a'), 'é', 'e'), 'í', 'i'), 'ó', 'o'), 'ú', 'u'), 'ü', 'u'), 'ñ', 'n'), 'à', 'a'), 'è', 'e'), 'ì', 'i'), 'ò', 'o'), 'ù', 'u'), '[^a-z0-9]+', '-'), '^-+|-+$', ''), '^fase-(de-)?', '') AS praw,
    'total' AS ckey
FROM gel_index_scores FINAL
WHERE entity_code != ''
  AND run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
  AND ({marco:String} = '' OR {marco:String} = 'igd')
  AND ({entidad:String} = '' OR entity_code = {entidad:String})
