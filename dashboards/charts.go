// Package dashboards builds the observatory's charts with go-echarts and
// serves the pages that show them.
//
// Rendering is split for safety: go-echarts builds the ECharts option, which
// leaves the server only as JSON (escaped by encoding/json, served as
// application/json) and is applied by the observatory's own script. The
// go-echarts HTML renderer is not used: it copies titles and labels into an
// inline script unescaped and turns "__f__" strings into live functions, so
// a municipality name from a source could run as code.
package dashboards

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// Chart is one chart ready for a page: its ECharts option as JSON and an
// accessible table that says the same.
type Chart struct {
	ID       string
	Title    string
	Subtitle string
	Option   json.RawMessage
	Table    Table
	DataURL  string // CSV of the data behind the chart
}

// Table mirrors a chart for screen readers and for anyone who prefers
// numbers.
type Table struct {
	Caption string
	Header  []string
	Rows    [][]string
	Notes   []string
}

// Palette: colours with at least 3:1 contrast against white, told apart by
// decal patterns too, so colour is never the only cue.
var Palette = []string{"#1f5fa8", "#b3401b", "#2e7d32", "#6a3d9a", "#8a6d00"}

// MonthlyCollections charts recaudo_mensual rows: one line per
// municipality, summed over taxes.
func MonthlyCollections(res *warehouse.Result) (*Chart, error) {
	iMes, iCode, iName, iAmt, iSup := res.Index("mes"), res.Index("codigo_municipio"), res.Index("municipio"), res.Index("recaudo"), res.Index("suprimido")
	if iMes < 0 || iCode < 0 || iName < 0 || iAmt < 0 || iSup < 0 {
		return nil, fmt.Errorf("recaudo_mensual: faltan columnas en %v", res.Columns)
	}
	type key struct {
		month time.Time
		code  string
	}
	sums := map[key]decimal.Decimal{}
	names := map[string]string{}
	monthSet := map[time.Time]bool{}
	suppressed := 0
	for _, r := range res.Rows {
		m := r[iMes].(time.Time)
		code := r[iCode].(string)
		names[code], monthSet[m] = r[iName].(string), true
		if r[iSup].(uint64) == 1 || r[iAmt] == nil {
			suppressed++
			continue
		}
		k := key{m, code}
		sums[k] = sums[k].Add(r[iAmt].(decimal.Decimal))
	}
	months := make([]time.Time, 0, len(monthSet))
	for m := range monthSet {
		months = append(months, m)
	}
	sort.Slice(months, func(i, j int) bool { return months[i].Before(months[j]) })
	codes := make([]string, 0, len(names))
	for c := range names {
		codes = append(codes, c)
	}
	sort.Strings(codes)

	axis := make([]string, len(months))
	for i, m := range months {
		axis[i] = ShortMonth(m)
	}
	line := charts.NewLine()
	line.SetGlobalOptions(
		charts.WithTitleOpts(opts.Title{Title: "Recaudo mensual por municipio", Subtitle: "Pesos corrientes, todos los impuestos"}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "bottom"}),
		charts.WithColorsOpts(opts.Colors(Palette)),
		charts.WithYAxisOpts(opts.YAxis{Name: "Pesos"}),
		charts.WithDataZoomOpts(opts.DataZoom{Type: "slider", Start: 0, End: 100}),
	)
	line.SetXAxis(axis)
	table := Table{
		Caption: "Recaudo mensual por municipio (pesos corrientes, suma de todos los impuestos)",
		Header:  append([]string{"Mes"}, nil...),
	}
	for _, c := range codes {
		table.Header = append(table.Header, fmt.Sprintf("%s (%s)", names[c], c))
		data := make([]opts.LineData, len(months))
		for i, m := range months {
			if v, ok := sums[key{m, c}]; ok {
				data[i] = opts.LineData{Value: json.Number(v.String())}
			} else {
				data[i] = opts.LineData{Value: "-"}
			}
		}
		line.AddSeries(names[c], data)
	}
	for _, m := range months {
		row := []string{Month(m)}
		for _, c := range codes {
			if v, ok := sums[key{m, c}]; ok {
				row = append(row, Pesos(v))
			} else {
				row = append(row, "sin dato")
			}
		}
		table.Rows = append(table.Rows, row)
	}
	if suppressed > 0 {
		table.Notes = append(table.Notes, fmt.Sprintf("%d celdas (mes, municipio, impuesto) con menos contribuyentes que el umbral de reserva se omitieron de las sumas.", suppressed))
	}
	option, err := optionJSON(line)
	if err != nil {
		return nil, err
	}
	return &Chart{
		ID:       "recaudo-mensual",
		Title:    "Recaudo mensual por municipio",
		Subtitle: "Lo que cada municipio recaudó mes a mes, según los pagos registrados.",
		Option:   option,
		Table:    table,
		DataURL:  "/datos/recaudo-mensual.csv",
	}, nil
}

// optionJSON turns a go-echarts configuration into the ECharts option as
// JSON, with accessibility on: aria descriptions and decal patterns.
func optionJSON(c interface {
	Validate()
	JSON() map[string]any
}) (json.RawMessage, error) {
	c.Validate()
	m := c.JSON()
	m["aria"] = map[string]any{"enabled": true, "decal": map[string]any{"show": true}}
	m["animation"] = false
	return json.Marshal(m) // escapes <, > and & as \u003c etc.
}
