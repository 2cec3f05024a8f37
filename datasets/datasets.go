// Package datasets is the catalog of what the observatory publishes for
// download, and the exports themselves. Exports stream out of the engine in
// its own formats (CSV with names, ...), so a download of any size runs at
// constant memory and is exactly what the warehouse holds.
package datasets

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/observatorio-civico/observatorio/analytics"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// DefaultK is the minimum number of distinct taxpayers behind a published
// aggregate cell.
const DefaultK = 5

// Dataset is one published dataset.
type Dataset struct {
	ID          string
	Title       string // Spanish
	TitleEN     string
	Description string // Spanish
	Query       string // analytics query name
	License     string
	// Params gives the query's parameters for a full export at time now.
	Params func(now time.Time) []warehouse.Param
}

// Catalog lists the published datasets.
var Catalog = []Dataset{
	{
		ID:          "recaudo-mensual",
		Title:       "Recaudo mensual por municipio e impuesto",
		TitleEN:     "Monthly tax collections by municipality and tax",
		Description: "Suma de los pagos registrados por mes, municipio (código DIVIPOLA) e impuesto. Las celdas con menos de 5 contribuyentes distintos se publican sin monto (suprimido = 1).",
		Query:       "recaudo_mensual",
		License:     "CC BY 4.0",
		Params: func(now time.Time) []warehouse.Param {
			return []warehouse.Param{
				warehouse.P("desde", time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)),
				warehouse.P("hasta", now.AddDate(0, 0, 1)),
				warehouse.P("k", DefaultK),
			}
		},
	},
}

// Get returns a dataset by id.
func Get(id string) (*Dataset, error) {
	for i := range Catalog {
		if Catalog[i].ID == id {
			return &Catalog[i], nil
		}
	}
	return nil, fmt.Errorf("no existe el conjunto de datos %q", id)
}

// WriteCSV streams the whole dataset as RFC 4180 CSV (UTF-8, header row).
func (d *Dataset) WriteCSV(ctx context.Context, e warehouse.Engine, w io.Writer, now time.Time) error {
	return analytics.Stream(ctx, e, w, "CSVWithNames", d.Query, d.Params(now)...)
}
