-- Liquidaciones y declaraciones por trimestre de presentación, municipio, impuesto y canal (tablero Canales).
-- Liquidations per quarter of their issue (filing) date, municipality, tax
-- and filing channel (web | presencial). Counts only.
SELECT
    toStartOfQuarter(issue_date) AS trimestre,
    municipality_code AS codigo_municipio,
    tax AS impuesto,
    filing_channel AS canal,
    count() AS declaraciones
FROM liquidations FINAL
PREWHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed')
GROUP BY trimestre, codigo_municipio, impuesto, canal
ORDER BY trimestre, codigo_municipio, impuesto, canal
