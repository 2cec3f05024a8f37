package dashboards

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/observatorio-civico/observatorio/analytics/gel"
)

// GELTagAuthority names the observatory in the Atom ids (RFC 4151 tag
// URIs): ids stay the same whatever host serves the feed.
const GELTagAuthority = "tag:observatorio-civico.github.io,2026:gel/"

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomCategory struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr,omitempty"`
}

type atomEntry struct {
	ID        string         `xml:"id"`
	Title     atomText       `xml:"title"`
	Updated   string         `xml:"updated"`
	Published string         `xml:"published"`
	Links     []atomLink     `xml:"link"`
	Category  []atomCategory `xml:"category"`
	Summary   atomText       `xml:"summary"`
}

type atomAuthor struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomFeed struct {
	XMLName  xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang     string      `xml:"xml:lang,attr"`
	ID       string      `xml:"id"`
	Title    atomText    `xml:"title"`
	Subtitle atomText    `xml:"subtitle"`
	Updated  string      `xml:"updated"`
	Author   atomAuthor  `xml:"author"`
	Links    []atomLink  `xml:"link"`
	Rights   string      `xml:"rights"`
	Entries  []atomEntry `xml:"entry"`
}

// atomTime is midnight in Colombia of a calendar date, as RFC 3339.
func atomTime(d time.Time) string {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, gelColombia).Format(time.RFC3339)
}

// maxFeedEntries bounds the feed to the most recent events.
const maxFeedEntries = 100

// Feed is an entity's Atom 1.0 feed (RFC 4287) of deadlines passed and
// targets reached, newest first. base is the site's absolute address
// ("https://observatorio.example"), for the feed's links.
func (g *GELPages) Feed(ctx context.Context, code, base string) *Response {
	base = strings.TrimSuffix(base, "/")
	return g.cached("feed|"+code+"|"+base+"|"+g.today().Format("2006-01-02"), true, func() *Response {
		ent, events, err := gel.Events(ctx, g.eng, code, g.today())
		if errors.Is(err, gel.ErrUnknownEntity) {
			r := &Response{Status: http.StatusNotFound, Header: http.Header{},
				Body: NewBody("text/plain; charset=utf-8", []byte("No existe la entidad «"+code+"»: use un código DIVIPOLA de 5 dígitos, por ejemplo 25151.\n"))}
			r.Header.Set("Cache-Control", "no-store")
			return r
		}
		if err != nil {
			return g.fail(err)
		}
		name := gelEntityLabel(ent)
		page := base + gelEntityURL(code, "", nil)
		f := atomFeed{
			Lang:     "es-CO",
			ID:       GELTagAuthority + code,
			Title:    atomText{"text", name + ": plazos y metas de Gobierno en Línea y Gobierno Digital"},
			Subtitle: atomText{"text", "Avisos del Observatorio cuando vence un plazo de " + name + " sin cumplirse o cuando cumple una fase o una acción de su plan."},
			Author:   atomAuthor{Name: "Observatorio de Transparencia Tributaria Municipal", URI: base + "/"},
			Links: []atomLink{
				{Rel: "self", Type: "application/atom+xml", Href: base + gelFeedURL(code)},
				{Rel: "alternate", Type: "text/html", Href: page},
			},
			Rights: "Datos publicados bajo licencia CC BY 4.0",
		}
		updated := time.Date(2008, 4, 14, 0, 0, 0, 0, time.UTC) // Decreto 1151 de 2008
		for i, ev := range events {
			if i == maxFeedEntries {
				break
			}
			e := g.feedEntry(name, base, code, ev)
			f.Entries = append(f.Entries, e)
			if ev.Date.After(updated) {
				updated = ev.Date
			}
		}
		f.Updated = atomTime(updated)
		out, err := xml.MarshalIndent(f, "", "  ")
		if err != nil {
			return g.fail(err)
		}
		body := append([]byte(xml.Header), out...)
		body = append(body, '\n')
		r := &Response{Status: http.StatusOK, Body: NewBody("application/atom+xml; charset=utf-8", body), Header: http.Header{}}
		return r
	})
}

func (g *GELPages) feedEntry(name, base, code string, ev gel.Event) atomEntry {
	e := atomEntry{ID: GELTagAuthority + ev.Key, Updated: atomTime(ev.Date), Published: atomTime(ev.Date)}
	at := ev.Date
	var title, summary, link, label string
	switch ev.Kind {
	case gel.EventPhaseMet, gel.EventPhaseOverdue:
		f, p := ev.Framework, ev.Phase
		link = base + gelEntityURL(code, f.ID, &at) + "#fase-" + url.PathEscape(p.ID)
		what := f.Part + " " + p.Name + " (" + f.Short + ")"
		if ev.Kind == gel.EventPhaseMet {
			label = "Meta cumplida"
			title = name + " cumplió la " + what
			switch {
			case p.Deadline == nil:
			case !ev.Date.After(*p.Deadline):
				title += " a tiempo"
			default:
				title += " después del plazo"
			}
			summary = "Llegó a " + gelValue(p.Target, f.Unit) + " el " + Date(ev.Date) + "."
			if p.Deadline != nil {
				summary += " El plazo era el " + Date(*p.Deadline) + "."
			}
		} else {
			label = "Plazo vencido"
			title = "Venció el plazo de la " + what + " sin que " + name + " la cumpliera"
			summary = "El plazo para las entidades territoriales era el " + Date(*p.Deadline) + "."
			if ev.ProgressThen != nil {
				summary += " Avance a esa fecha: " + gelValue(*ev.ProgressThen, f.Unit) + " (medición del " + Date(*ev.MeasuredThen) + ")."
			} else {
				summary += " No había mediciones hasta esa fecha."
			}
			if p.MetOn != nil {
				summary += " La cumplió después, el " + Date(*p.MetOn) + "."
			}
		}
		if p.Synthetic {
			summary += " Incluye datos sintéticos de demostración."
		}
	case gel.EventActionDone, gel.EventActionOverdue:
		a := ev.Action
		link = base + gelEntityURL(code, "", &at) + "#e-plan"
		if ev.Kind == gel.EventActionDone {
			label = "Acción cumplida"
			title = name + " cumplió la acción «" + a.Action + "» de su plan"
			if a.Deadline != nil && a.CompletedOn.After(*a.Deadline) {
				title += " después del plazo"
			} else if a.Deadline != nil {
				title += " a tiempo"
			}
			summary = "Cumplida el " + Date(*a.CompletedOn) + "."
		} else {
			label = "Plazo vencido"
			title = "Venció el plazo de la acción «" + a.Action + "» del plan de " + name
			summary = ""
		}
		if a.Deadline != nil {
			summary += " Plazo: " + Date(*a.Deadline)
			if a.DeadlineText != "" {
				summary += " (" + a.DeadlineText + ")"
			}
			summary += "."
		}
		if a.Responsible != "" {
			summary += " Responsable: " + a.Responsible + "."
		}
		if a.Synthetic {
			summary += " El estado de esta acción es sintético (demostración)."
		}
		summary = strings.TrimSpace(summary)
	}
	e.Title = atomText{"text", title}
	e.Summary = atomText{"text", summary}
	e.Links = []atomLink{{Rel: "alternate", Type: "text/html", Href: link}}
	e.Category = []atomCategory{{Term: string(ev.Kind), Label: label}}
	return e
}
