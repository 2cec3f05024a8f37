-- Fragmento (no es una consulta): las mediciones confirmadas, con la fase y el criterio del catálogo, su meta y su plazo.
-- Fragment "medidas": the base measurements with the source's phase and
-- criterion names resolved to the catalog's ids. The catalog comes from the
-- binary: fase_desde/fase_hacia and crit_desde/crit_hacia map keys to ids,
-- fase_ids with fase_metas and fase_plazos, crit_ids with crit_metas and
-- crit_plazos give targets and deadlines, total_claves lists what sources
-- write for a phase's own measurement: array literals generated from
-- frameworks.yaml when the package loads. Each transform() is computed at
-- one level and read as a column at the next: an alias used twice in one
-- SELECT would copy its array literal. Parameters: marco, entidad, corte.
-- Columns: entity_code, framework, phase, criterion, label (the source's
-- criterion text), in_catalog, measured_on, value, unit, target, deadline
-- (Nullable), phase_target, phase_deadline (Nullable), evidence_url,
-- synthetic, source, pct (0-100: the value against its target, capped),
-- met (value >= target).
SELECT
    entity_code, framework, phase, criterion, label, in_catalog, measured_on, value, unit,
    target, deadline, phase_target, phase_deadline, evidence_url, synthetic, source,
    least(toFloat64(value) / toFloat64(target), 1.) * 100 AS pct,
    toUInt8(value >= target) AS met
FROM
(
    SELECT
        entity_code, framework, phase, criterion, label, in_catalog, measured_on, value, unit, evidence_url, synthetic, source,
        phase_target, phase_deadline,
        toDecimal64(if(c_target = 0, toFloat64(phase_target), c_target), 4) AS target,
        if(c_plazo = '', phase_deadline, toNullable(toDate(if(c_plazo = '', '1970-01-01', c_plazo)))) AS deadline
    FROM
    (
        SELECT
            entity_code, framework, phase, criterion, label, in_catalog, measured_on, value, unit, evidence_url, synthetic, source,
            phase_target, phase_deadline,
            transform(concat(framework, '|', phase, '|', criterion), {{crit_ids}}, {{crit_metas}}, 0.) AS c_target,
            transform(concat(framework, '|', phase, '|', criterion), {{crit_ids}}, {{crit_plazos}}, '') AS c_plazo
        FROM
        (
            SELECT
                entity_code, framework, phase, label, measured_on, v4 AS value, unit, evidence_url, synthetic, source,
                multiIf(k_criterion != '', k_criterion, has({{total_claves}}, ckey), 'total', ckey) AS criterion,
                toUInt8(k_phase != '' AND k_criterion != '') AS in_catalog,
                toDecimal64(p_target, 4) AS phase_target,
                if(p_plazo = '', CAST(NULL AS Nullable(Date)), toNullable(toDate(if(p_plazo = '', '1970-01-01', p_plazo)))) AS phase_deadline
            FROM
            (
                SELECT
                    entity_code, framework, phase, label, measured_on, v4, unit, evidence_url, synthetic, source, ckey, k_phase,
                    transform(concat(framework, '|', phase, '|', ckey), {{crit_desde}}, {{crit_hacia}}, '') AS k_criterion,
                    transform(concat(framework, '|', phase), {{fase_ids}}, {{fase_metas}}, 100.) AS p_target,
                    transform(concat(framework, '|', phase), {{fase_ids}}, {{fase_plazos}}, '') AS p_plazo
                FROM
                (
                    SELECT
                        entity_code, framework, label, measured_on, v4, unit, evidence_url, synthetic, source, ckey, k_phase,
                        if(k_phase = '', praw, k_phase) AS phase
                    FROM
                    (
                        SELECT
                            entity_code, framework, label, measured_on, v4, unit, evidence_url, synthetic, source, praw, ckey,
                            transform(concat(framework, '|', praw), {{fase_desde}}, {{fase_hacia}}, '') AS k_phase
                        FROM ({{base}}) AS b0
                    ) AS b1
                ) AS b2
            ) AS b3
        ) AS b4
    ) AS b5
) AS b6
