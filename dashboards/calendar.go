package dashboards

import (
	"fmt"
	"html/template"

	"github.com/observatorio-civico/observatorio/liquidation"
)

var calendarTmpl = template.Must(template.Must(layout.Clone()).ParseFS(templateFiles, "templates/calendario.html"))

// CalendarEvent is one row of the calendar page.
type CalendarEvent struct {
	When, Tax, Title, Description, Reference string
}

// CalendarPage is a municipality's tax calendar for a year.
type CalendarPage struct {
	Page
	Heading, Municipality string
	Year                  int
	Illustrative          bool
	ICSURL, JSONURL       string
	Events                []CalendarEvent
	Years                 []struct{ URL, Text string }
}

var taxNames = map[string]string{liquidation.TaxPredial: "Predial", liquidation.TaxICA: "Industria y comercio", liquidation.TaxReteICA: "ReteICA"}

// RenderCalendar renders the calendar page of events computed by the
// liquidation core (liquidation.Rules.Calendar).
func RenderCalendar(info liquidation.MunicipalityInfo, year int, events []liquidation.CalendarEvent) ([]byte, error) {
	p := &CalendarPage{
		Page: Page{
			Title:       fmt.Sprintf("Calendario tributario de %s %d", info.Name, year),
			Description: fmt.Sprintf("Vencimientos, descuentos y plazos de declaración de %s en %d.", info.Name, year),
		},
		Heading:      fmt.Sprintf("Calendario tributario de %s, %d", info.Name, year),
		Municipality: info.Name,
		Year:         year,
		Illustrative: info.Illustrative,
		ICSURL:       fmt.Sprintf("/calendario/%s/%d.ics", info.Code, year),
		JSONURL:      fmt.Sprintf("/calendario/%s/%d.json", info.Code, year),
	}
	for _, e := range events {
		when := Date(e.Date.Time())
		if !e.End.IsZero() && e.End != e.Date {
			when = "del " + Date(e.Date.Time()) + " al " + Date(e.End.Time())
		}
		name := taxNames[e.Tax]
		if name == "" {
			name = e.Tax
		}
		p.Events = append(p.Events, CalendarEvent{When: when, Tax: name, Title: e.Title, Description: e.Description, Reference: e.Reference})
	}
	for y := year - 2; y <= year+1; y++ {
		if y != year {
			p.Years = append(p.Years, struct{ URL, Text string }{fmt.Sprintf("/calendario/%s/%d", info.Code, y), fmt.Sprint(y)})
		}
	}
	return render(calendarTmpl, p)
}
