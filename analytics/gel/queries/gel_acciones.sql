-- Acciones del plan de Gobierno en Línea / Gobierno Digital de una entidad y su estado en una fecha (vencidas, cumplidas a tiempo o tarde, pendientes).
-- Action-plan items as of {fecha}. estado: cancelada; cumplida_a_tiempo /
-- cumplida_tarde (completed on or before {fecha}, against the deadline);
-- cumplida (reported done, no completion date); vencida (deadline passed,
-- not completed by {fecha}); en_curso or pendiente otherwise (as
-- reported). Same rule as gel.ActionStatus. Parameters: entidad ('' =
-- all), fecha, corte.
SELECT
    entity_code AS codigo_entidad, plan, item, framework AS marco, phase AS fase, action AS accion,
    responsible AS responsable, indicator AS indicador, goal AS meta, deadline AS plazo, deadline_text AS plazo_texto,
    status AS estado_reportado, completed_on AS cumplida_el, evidence_url AS evidencia, synthetic AS sintetico,
    multiIf(
        status = 'cancelada', 'cancelada',
        done AND (isNull(deadline) OR ifNull(completed_on, toDate('1970-01-01')) <= ifNull(deadline, toDate('2100-01-01'))), 'cumplida_a_tiempo',
        done, 'cumplida_tarde',
        status = 'cumplida' AND isNull(completed_on), 'cumplida',
        isNotNull(deadline) AND {fecha:Date} > ifNull(deadline, toDate('2100-01-01')), 'vencida',
        status = 'en_curso', 'en_curso',
        'pendiente') AS estado
FROM
(
    SELECT *, isNotNull(completed_on) AND ifNull(completed_on, toDate('2100-01-01')) <= {fecha:Date} AS done
    FROM gel_action_items FINAL
    WHERE run_id IN (SELECT run_id FROM etl_runs FINAL WHERE status = 'committed' AND finished_at <= {corte:DateTime})
      AND ({entidad:String} = '' OR entity_code = {entidad:String})
) AS a
ORDER BY codigo_entidad, plan, ifNull(plazo, toDate('2100-01-01')), item
