-- Pagos por trimestre, municipio, impuesto y canal, leído de los agregados precalculados (versión {version}).
-- Reads one version of dash_agg_canales_pagos (written by dashboards.Refresh from
-- the live dash_* query of the same columns).
SELECT trimestre, codigo_municipio, impuesto, canal, pagos, monto
FROM dash_agg_canales_pagos
WHERE version = {version:UInt64}
ORDER BY trimestre, codigo_municipio, impuesto, canal, pagos, monto
