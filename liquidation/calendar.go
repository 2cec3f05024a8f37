package liquidation

import (
	"fmt"
	"sort"
)

// CalendarEvent is one date of the tax calendar of a municipality (all-day event).
type CalendarEvent struct {
	// UID is stable across runs (municipality, kind, tax year, date).
	UID          string `json:"uid"`
	Municipality string `json:"municipality"`
	Tax          string `json:"tax"`
	// Kind is "vencimiento", "descuento" or "declaracion".
	Kind string `json:"kind"`
	// Date is the day of the event; End (optional, inclusive) closes a multi-day window.
	Date        Date   `json:"date"`
	End         Date   `json:"end,omitzero"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Reference   string `json:"reference"`
}

// Calendar lists the events of the municipality that fall in calendar year `year`:
// predial payment deadline and pronto-pago windows of the vigencia `year`, the ICA
// filing deadline of año gravable year-1 (filed in `year`), and the ReteICA filing
// deadlines of the periods due in `year`. Events are sorted by date.
func (r *Rules) Calendar(municipality string, year int) ([]CalendarEvent, error) {
	m := r.munis[municipality]
	if m == nil {
		return nil, ruleErr("municipio", "no hay reglas para el municipio %s", municipality)
	}
	var ev []CalendarEvent
	add := func(e CalendarEvent) {
		if e.Date.Year() != year {
			return
		}
		e.Municipality = m.code
		e.UID = fmt.Sprintf("%s-%s-%s-%s@observatorio-civico", m.code, e.Tax, e.Kind, e.Date.String())
		ev = append(ev, e)
	}
	if d, ok := m.predialDisc[year]; ok {
		start := NewDate(year, 1, 1)
		for _, w := range d.windows {
			add(CalendarEvent{Tax: TaxPredial, Kind: "descuento", Date: start, End: w.until,
				Title:       fmt.Sprintf("%s: predial %d con %s %% de descuento hasta el %s", m.name, year, w.pct.String(), w.until.Spanish()),
				Description: fmt.Sprintf("Pague el impuesto predial unificado de %d de %s hasta el %s y obtenga un descuento del %s %% por pronto pago.", year, m.name, w.until.Spanish(), w.pct.String()),
				Reference:   d.cite})
			start = w.until.AddDays(1)
		}
	}
	if d, ok := m.predialDue[year]; ok {
		add(CalendarEvent{Tax: TaxPredial, Kind: "vencimiento", Date: d.date,
			Title:       fmt.Sprintf("%s: vence el plazo del predial %d", m.name, year),
			Description: fmt.Sprintf("Último día para pagar el impuesto predial unificado de %d en %s sin intereses de mora (desde el día siguiente se liquidan intereses, ET arts. 634 y 635).", year, m.name),
			Reference:   d.cite})
	}
	if d, ok := m.icaFiling[year-1]; ok {
		add(CalendarEvent{Tax: TaxICA, Kind: "declaracion", Date: d.date,
			Title:       fmt.Sprintf("%s: declarar y pagar el ICA del año gravable %d", m.name, year-1),
			Description: fmt.Sprintf("Último día para presentar y pagar la declaración de industria y comercio, avisos y tableros del año gravable %d en %s. Después hay sanción por extemporaneidad (ET art. 641) e intereses de mora.", year-1, m.name),
			Reference:   d.cite})
	}
	if d, ok := m.icaDisc[year-1]; ok {
		for _, w := range d.windows {
			add(CalendarEvent{Tax: TaxICA, Kind: "descuento", Date: w.until,
				Title:       fmt.Sprintf("%s: ICA %d con %s %% de descuento hasta hoy", m.name, year-1, w.pct.String()),
				Description: fmt.Sprintf("Último día para declarar y pagar el ICA del año gravable %d con descuento del %s %% por pronto pago en %s.", year-1, w.pct.String(), m.name),
				Reference:   d.cite})
		}
	}
	for _, fy := range []int{year - 1, year} {
		f, ok := m.retFiling[fy]
		if !ok {
			continue
		}
		for _, p := range f.periods {
			add(CalendarEvent{Tax: TaxReteICA, Kind: "declaracion", Date: p.due,
				Title:       fmt.Sprintf("%s: declarar la ReteICA del periodo %d de %d", m.name, p.period, fy),
				Description: fmt.Sprintf("Los agentes retenedores de %s presentan y pagan las retenciones de ICA practicadas del %s al %s (periodicidad %s).", m.name, p.from.Spanish(), p.to.Spanish(), f.periodicity),
				Reference:   f.cite})
		}
	}
	sort.SliceStable(ev, func(i, j int) bool { return ev[i].Date.Before(ev[j].Date) })
	return ev, nil
}
