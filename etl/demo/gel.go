package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/observatorio-civico/observatorio/ingest"
)

// Gobierno en Línea (Decreto 1151 de 2008): five phases, each a list of
// criteria taken from the national strategy's presentation (seed 004,
// slides 13 to 17). Progress in a phase is the share of its criteria met.
// The counts are chosen so that Cáqueza's diagnosis of August 2009 (seed
// 002: Información 90 %, Interacción 70 %, Transacción 5 %, Transformación
// 0 %, E-democracia 0 %) is exact: 9 of 10, 7 of 10, 1 of 20, 0 of 11 and
// 0 of 5.

const gelFramework = "gel2008"

type gelPhase struct {
	code     string
	label    string
	criteria []string
}

var gelPhases = []gelPhase{
	{"informacion", "Información", []string{
		"Información acerca de la entidad",
		"Normatividad",
		"Presupuesto",
		"Políticas, planes, programas y proyectos institucionales",
		"Trámites y servicios",
		"Contratación",
		"Control y rendición de cuentas",
		"Servicios de información",
		"Estándares de presentación y de funcionalidad",
		"Estándares técnicos: dominio, etiquetado, tiempo de despliegue, parpadeo",
	}},
	{"interaccion", "Interacción", []string{
		"Buzón de contáctenos (correo electrónico activo)",
		"Buzón de peticiones, quejas y reclamos",
		"Esquema de búsqueda y ayudas",
		"Suscripción a servicios de información al correo electrónico y al teléfono móvil",
		"Encuestas de opinión",
		"Información en audio y/o video",
		"Descarga de documentos",
		"Mecanismos de participación",
		"Formularios para descargar o diligenciar",
		"Consulta a bases de datos (contratación del municipio)",
	}},
	{"transaccion", "Transacción", []string{
		"Consulta del estado de un trámite y/o servicio",
		"Plazos de respuesta publicados",
		"Medición de la satisfacción de los usuarios",
		"Georreferenciación",
		"Información en otro idioma",
		"Política de seguridad publicada",
		"Monitoreo del desempeño y uso del sitio",
		"Pago del impuesto predial en línea",
		"Declaración y pago del impuesto de industria y comercio en línea",
		"Declaración de la retención de industria y comercio en línea",
		"Certificado de estratificación en línea",
		"Certificado de residencia en línea",
		"Paz y salvo municipal en línea",
		"Consulta y expedición del carné del SISBEN",
		"Licencias de construcción en línea",
		"Permisos de uso del espacio público en línea",
		"Pago de multas y comparendos en línea",
		"Inscripción en programas sociales en línea",
		"Radicación y seguimiento de peticiones en línea",
		"Consulta y descarga de pliegos de contratación",
	}},
	{"transformacion", "Transformación", []string{
		"Plan de simplificación, racionalización y estandarización de trámites",
		"Ejecución del plan de racionalización (ejecutado frente a programado)",
		"Plan de servicio al ciudadano",
		"Ejecución del plan de servicio al ciudadano (ejecutado frente a programado)",
		"Atención por múltiples canales",
		"Ventanilla única virtual",
		"Personalización del sitio web",
		"Accesibilidad web",
		"Formación de los servidores públicos en Gobierno en Línea",
		"Formación en temas relacionados con Gobierno en Línea",
		"Trámites y servicios en línea que verifican información con otras entidades",
	}},
	{"democracia", "E-democracia", []string{
		"Construcción y seguimiento de políticas, planes, programas y temas legislativos",
		"Discusión y consulta en línea para la toma de decisiones",
		"Resultados de la participación por medios electrónicos",
		"Incentivos para la participación por medios electrónicos",
		"Información, trámites y servicios dirigidos a población vulnerable",
	}},
}

// caqueza2009Met are the criteria Cáqueza met in August 2009. The phase
// percentages are the diagnosis's; which criteria is a reconstruction from
// the same document (the interaction criteria it lists as met; the
// information phase still "reuniendo la información"; response times are
// the one transaction utility a municipal site publishes first).
var caqueza2009Met = map[string][]int{
	"informacion": {0, 1, 2, 3, 4, 5, 7, 8, 9}, // not yet: control y rendición de cuentas
	"interaccion": {0, 1, 2, 4, 6, 7, 9},       // not yet: suscripción, audio/video, formularios (plan, semestre 2/2009)
	"transaccion": {1},
}

type gelMeasure struct {
	entity    string
	date      day
	met       [5]int // per phase
	synthetic bool
	source    string
}

const caquezaGELSource = "Plan de Acción de la Estrategia de Gobierno en Línea del Municipio de Cáqueza, diagnóstico de agosto de 2009 (porcentajes por fase del documento; el detalle por criterio es una reconstrucción)"
const syntheticSource = "Dato sintético de demostración (observatorio - etl/demo)"

var gelMeasures = []gelMeasure{
	{"25151", mkday(2009, 8, 31), [5]int{9, 7, 1, 0, 0}, false, caquezaGELSource},
	{"25151", mkday(2010, 11, 30), [5]int{10, 9, 4, 0, 0}, true, syntheticSource},
	{"25151", mkday(2011, 11, 30), [5]int{10, 10, 8, 2, 1}, true, syntheticSource},
	{"25151", mkday(2012, 11, 30), [5]int{10, 10, 11, 4, 2}, true, syntheticSource},
	{"18001", mkday(2009, 8, 31), [5]int{8, 5, 2, 0, 0}, true, syntheticSource},
	{"18001", mkday(2010, 11, 30), [5]int{10, 8, 6, 1, 0}, true, syntheticSource},
	{"18001", mkday(2011, 11, 30), [5]int{10, 9, 10, 3, 1}, true, syntheticSource},
	{"18001", mkday(2012, 11, 30), [5]int{10, 10, 13, 5, 2}, true, syntheticSource},
	{"18001", mkday(2013, 8, 30), [5]int{10, 10, 17, 7, 3}, true, syntheticSource}, // Oficina Virtual Tributaria
	{"68001", mkday(2009, 8, 31), [5]int{10, 8, 4, 1, 0}, true, syntheticSource},
	{"68001", mkday(2010, 11, 30), [5]int{10, 10, 9, 3, 1}, true, syntheticSource},
	{"68001", mkday(2011, 11, 30), [5]int{10, 10, 14, 6, 2}, true, syntheticSource},
	{"68001", mkday(2012, 11, 30), [5]int{10, 10, 17, 8, 3}, true, syntheticSource},
}

var gelLayout = &layout{kind: ingest.KindGEL, charset: "utf-8", delim: ',', decimal: '.', dates: dmySlash,
	dateFormats: []string{"dd/mm/yyyy"},
	cols: columns(gelSchema, "Marco", "framework", "Fase", "phase", "Criterio", "criterion", "Código DANE", "entity_code",
		"Fecha de medición", "measured_on", "Cumplimiento", "value", "Unidad", "unit", "Evidencia", "evidence_url",
		"Fuente", "source", "Sintético", "synthetic"),
}

// gelOrder is the order in which an entity meets the criteria of a phase:
// Cáqueza's 2009 criteria first, then a fixed shuffle per entity, so that a
// criterion met once stays met.
func (g *gen) gelOrder(entity string, ph int) []int {
	n := len(gelPhases[ph].criteria)
	var first []int
	if entity == "25151" {
		first = caqueza2009Met[gelPhases[ph].code]
	}
	seen := map[int]bool{}
	out := append([]int(nil), first...)
	for _, i := range first {
		seen[i] = true
	}
	rest := []int{}
	for i := 0; i < n; i++ {
		if !seen[i] {
			rest = append(rest, i)
		}
	}
	r := newRnd(g.seed, kGEL, uint64(len(entity)), uint64(entity[0]), uint64(entity[4]), uint64(ph))
	for i := len(rest) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		rest[i], rest[j] = rest[j], rest[i]
	}
	return append(out, rest...)
}

// writeGEL writes gel/mediciones_gel.csv with its bad rows.
func (g *gen) writeGEL(dir string) (*FileInfo, []GELProgress, error) {
	rel := "gel/mediciones_gel.csv"
	l := gelLayout
	info := &FileInfo{Path: rel, Source: "gel-mediciones", Record: string(ingest.KindGEL), Encoding: "utf-8", Delimiter: ",", BadRows: map[string]int{}}
	buf := l.header(nil)
	line := 1
	c := l.newCells()
	var progress []GELProgress
	var last []byte
	bads := []struct {
		after int
		code  string
	}{{7, ingest.CodeDate}, {31, ingest.CodeNumber}, {77, ingest.CodeRange}, {150, ingest.CodeDuplicateKey},
		{250, ingest.CodeRequired}, {401, ingest.CodeQuoteUnterm}, {560, ingest.CodeMunicipality}}
	nb := 0
	good := 0
	emitBad := func() {
		b := bads[nb]
		nb++
		var row []byte
		if b.code == ingest.CodeDuplicateKey {
			row = last
		} else {
			cc := l.newCells()
			copy(cc, c)
			raw := -1
			switch b.code {
			case ingest.CodeDate:
				cc[gDate] = "31/09/2009"
			case ingest.CodeNumber:
				cc[gValue] = "noventa"
			case ingest.CodeRange:
				cc[gValue] = "150"
			case ingest.CodeRequired:
				cc[gCriterion] = ""
			case ingest.CodeQuoteUnterm:
				cc[gCriterion] = `"` + "Normatividad vigente"
				raw = gCriterion
			case ingest.CodeMunicipality:
				cc[gEntity] = "2515A"
			}
			row = l.row(nil, cc, raw)
		}
		buf = append(buf, row...)
		line++
		info.BadRows[b.code]++
		info.Rejected++
		info.BadRowList = append(info.BadRowList, BadRow{Line: line, Code: b.code})
	}
	for _, ms := range gelMeasures {
		for ph, p := range gelPhases {
			order := g.gelOrder(ms.entity, ph)
			met := map[int]bool{}
			for _, i := range order[:ms.met[ph]] {
				met[i] = true
			}
			for i, crit := range p.criteria {
				for k := range c {
					c[k] = ""
				}
				c[gFramework] = gelFramework
				c[gPhase] = p.code
				c[gCriterion] = crit
				c[gEntity] = ms.entity
				c[gDate] = fmtDate(dmySlash, ms.date)
				c[gValue] = "0"
				if met[i] {
					c[gValue] = "100"
				}
				c[gUnit] = "%"
				c[gSource] = ms.source
				c[gSynthetic] = "No"
				if ms.synthetic {
					c[gSynthetic] = "Sí"
				}
				start := len(buf)
				buf = l.row(buf, c, -1)
				last = append(last[:0], buf[start:]...)
				line++
				good++
				if nb < len(bads) && good == bads[nb].after {
					emitBad()
				}
			}
			progress = append(progress, GELProgress{Entity: ms.entity, Date: fmtDate(isoDash, ms.date), Phase: p.code,
				Criteria: len(p.criteria), Met: ms.met[ph], Percent: pct(ms.met[ph], len(p.criteria)), Synthetic: ms.synthetic})
		}
	}
	for nb < len(bads) {
		emitBad()
	}
	info.Records = good
	info.DataRows = good + info.Rejected
	path := filepath.Join(dir, "gel")
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, rel), buf, 0o644); err != nil {
		return nil, nil, err
	}
	info.Bytes = int64(len(buf))
	info.SHA256 = sha256Hex(buf)
	return info, progress, nil
}

// pct formats met/total as a percentage with up to two decimals.
func pct(met, total int) string {
	if total == 0 {
		return "0"
	}
	v := float64(met) * 100 / float64(total)
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}
