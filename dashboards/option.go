package dashboards

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/shopspring/decimal"
)

// Value formats understood by graficos.js, which turns them into Spanish
// number formatters on the axes and in the tooltips (the option JSON never
// carries functions).
const (
	fmtPesos      = "pesos"      // $ 1.234.567; axes: $ 1,2 M
	fmtNumero     = "numero"     // 6.263
	fmtPorcentaje = "porcentaje" // 87,3 %
)

// serie is one series of an XY chart, and one column of its table.
type serie struct {
	Name      string // legend and table header (Spanish)
	Column    string // CSV column name
	Kind      string // "bar" (default) or "line"
	Stack     string
	Axis      int    // value axis index
	Format    string // fmtPesos, fmtNumero, fmtPorcentaje
	Values    []*decimal.Decimal
	TableOnly bool   // a column of the table and CSV that the chart does not draw
	Missing   string // table text for a nil value (default "reservado")
	// Texts, for a TableOnly column of text (dates, states): the table
	// shows Texts, the CSV Raw (or Texts when Raw is nil).
	Texts, Raw []string
	// Marks are vertical lines at categories (deadlines), with labels.
	Marks []mark
	// Label writes each value on the chart (inside a bar, above a line
	// point), in the series' format.
	Label bool
}

type mark struct{ Cat, Label string }

type valueAxis struct {
	Name   string
	Format string
	Max    int // 0: automatic
}

// xyChart is a bar/line chart over categories, with the table and the CSV
// that say the same thing. Building all three from one description keeps
// the table a faithful mirror of the chart.
type xyChart struct {
	ID, Title, Subtitle string
	Caption             string
	CatHeader           string   // table header of the category column
	CatColumn           string   // CSV name of the category column
	Cats                []string // axis labels ("sep. 2020")
	CatNames            []string // table labels ("septiembre de 2020"); default Cats
	CatRaw              []string // CSV values ("2020-09-01"); default CatNames
	Series              []serie
	Horizontal          bool
	Axes                []valueAxis
	Notes               []string
	Context             [][2]string // constant CSV columns: filters applied
	Empty               string      // message when there is nothing to draw
}

// Palette: colours with at least 3:1 contrast against white (checked by a
// test), told apart by decal patterns (bars) and by line dashes and symbols
// (lines) as well, so colour is never the only cue.
var Palette = []string{"#1f5fa8", "#b3401b", "#2e7d32", "#6a3d9a", "#8a6d00", "#00707a", "#a3195b", "#4d4d4d"}

var (
	lineSymbols = []string{"circle", "rect", "triangle", "diamond", "roundRect", "pin"}
	lineDashes  = []string{"solid", "dashed", "dotted"}
)

func num(d *decimal.Decimal) any {
	if d == nil {
		return "-" // ECharts: no value
	}
	return json.Number(d.String())
}

func formatValue(d *decimal.Decimal, format, missing string) string {
	if d == nil {
		if missing == "" {
			return "reservado"
		}
		return missing
	}
	switch format {
	case fmtPesos:
		return Pesos(*d)
	case fmtPorcentaje:
		return Percent(*d)
	default:
		if d.IsInteger() {
			return Number(d.IntPart())
		}
		return strings.Replace(d.StringFixed(1), ".", ",", 1)
	}
}

// build renders the chart: ECharts option, table and CSV.
func (x *xyChart) build() (*Chart, error) {
	names := x.CatNames
	if names == nil {
		names = x.Cats
	}
	raw := x.CatRaw
	if raw == nil {
		raw = names
	}
	for _, s := range x.Series {
		if s.Texts != nil {
			if !s.TableOnly || len(s.Texts) != len(x.Cats) || (s.Raw != nil && len(s.Raw) != len(x.Cats)) {
				return nil, fmt.Errorf("gráfico %s: la columna de texto %q no cuadra", x.ID, s.Name)
			}
			continue
		}
		if len(s.Values) != len(x.Cats) {
			return nil, fmt.Errorf("gráfico %s: la serie %q tiene %d valores para %d categorías", x.ID, s.Name, len(s.Values), len(x.Cats))
		}
	}
	c := &Chart{ID: x.ID, Title: x.Title, Subtitle: x.Subtitle, Empty: x.Empty}
	if len(x.Cats) == 0 && c.Empty == "" {
		c.Empty = "No hay datos para esta selección."
	}

	// Table.
	c.Table = Table{Caption: x.Caption, Header: []string{x.CatHeader}, Notes: x.Notes}
	for _, s := range x.Series {
		c.Table.Header = append(c.Table.Header, s.Name)
	}
	for i := range x.Cats {
		row := []string{names[i]}
		for _, s := range x.Series {
			if s.Texts != nil {
				row = append(row, s.Texts[i])
				continue
			}
			row = append(row, formatValue(s.Values[i], s.Format, s.Missing))
		}
		c.Table.Rows = append(c.Table.Rows, row)
	}

	// CSV: context columns, the category, one column per series; withheld
	// cells are empty.
	var head []string
	for _, kv := range x.Context {
		head = append(head, kv[0])
	}
	head = append(head, x.CatColumn)
	for _, s := range x.Series {
		head = append(head, s.Column)
	}
	data := [][]string{head}
	for i := range x.Cats {
		var rec []string
		for _, kv := range x.Context {
			rec = append(rec, kv[1])
		}
		rec = append(rec, raw[i])
		for _, s := range x.Series {
			if s.Texts != nil {
				if s.Raw != nil {
					rec = append(rec, s.Raw[i])
				} else {
					rec = append(rec, s.Texts[i])
				}
				continue
			}
			if v := s.Values[i]; v != nil {
				rec = append(rec, v.String())
			} else {
				rec = append(rec, "")
			}
		}
		data = append(data, rec)
	}
	c.csv = encodeCSV(data)

	// Option, through go-echarts.
	option, err := x.option()
	if err != nil {
		return nil, err
	}
	c.Option = option
	return c, nil
}

func (x *xyChart) option() (json.RawMessage, error) {
	axes := x.Axes
	if len(axes) == 0 {
		axes = []valueAxis{{Format: fmtNumero}}
	}
	bar := charts.NewBar()
	bar.SetGlobalOptions(
		charts.WithTitleOpts(opts.Title{Title: x.Title, Subtitle: x.Subtitle}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Type: "scroll", Bottom: "0"}),
		charts.WithColorsOpts(opts.Colors(Palette)),
		charts.WithXAxisOpts(opts.XAxis{Type: "category"}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: axes[0].Name}),
	)
	for _, a := range axes[1:] {
		bar.ExtendYAxis(opts.YAxis{Type: "value", Name: a.Name})
	}
	bar.SetXAxis(x.Cats)
	line := charts.NewLine()
	line.SetXAxis(x.Cats)
	var formats []string
	var drawn []serie
	for _, s := range x.Series {
		if s.TableOnly {
			continue
		}
		drawn = append(drawn, s)
		formats = append(formats, s.Format)
		if s.Kind == "line" {
			data := make([]opts.LineData, len(s.Values))
			for i, v := range s.Values {
				data[i] = opts.LineData{Value: num(v)}
			}
			line.AddSeries(s.Name, data, charts.WithLineChartOpts(opts.LineChart{YAxisIndex: s.Axis, Stack: s.Stack, ConnectNulls: opts.Bool(false)}))
			continue
		}
		data := make([]opts.BarData, len(s.Values))
		for i, v := range s.Values {
			data[i] = opts.BarData{Value: num(v)}
		}
		bar.AddSeries(s.Name, data, charts.WithBarChartOpts(opts.BarChart{Stack: s.Stack, YAxisIndex: s.Axis}))
	}
	// Bars first, then lines drawn over them; keep the formats in the
	// same order as the series.
	var ordered []string
	for i, s := range drawn {
		if s.Kind != "line" {
			ordered = append(ordered, formats[i])
		}
	}
	for i, s := range drawn {
		if s.Kind == "line" {
			ordered = append(ordered, formats[i])
		}
	}
	bar.Overlap(line)
	bar.Validate()
	m := bar.JSON()

	m, err := generic(bar.JSON())
	if err != nil {
		return nil, err
	}
	axisFormats := make([]string, len(axes))
	valueAxes := make([]any, len(axes))
	for i, a := range axes {
		axisFormats[i] = a.Format
		va := map[string]any{"type": "value", "name": a.Name, "nameTextStyle": map[string]any{"align": "left"}, "axisLabel": map[string]any{"hideOverlap": true}}
		if x.Horizontal {
			// The labels say the unit ($, %); a name at the end of a
			// horizontal axis would be cut on a phone.
			delete(va, "name")
		}
		if a.Max > 0 {
			va["max"] = a.Max
		}
		if i > 0 {
			va["position"] = "right"
			va["splitLine"] = map[string]any{"show": false}
			va["nameTextStyle"] = map[string]any{"align": "right"}
		}
		valueAxes[i] = va
	}
	catAxis := map[string]any{"type": "category", "data": x.Cats, "axisLabel": map[string]any{"hideOverlap": true}}
	if x.Horizontal {
		// Long names (a municipality and a tax) are cut on the axis; the
		// tooltip and the table have them whole.
		catAxis["axisLabel"] = map[string]any{"width": 120, "overflow": "truncate"}
	}
	valueKey := "yAxis"
	if x.Horizontal {
		valueKey = "xAxis"
		catAxis["inverse"] = true
		m["xAxis"], m["yAxis"] = valueAxes[:1], []any{catAxis}
	} else {
		m["xAxis"], m["yAxis"] = []any{catAxis}, valueAxes
	}
	// Marks: the go-echarts series are bars then lines, as "ordered".
	var drawnOrdered []serie
	for _, s := range drawn {
		if s.Kind != "line" {
			drawnOrdered = append(drawnOrdered, s)
		}
	}
	for _, s := range drawn {
		if s.Kind == "line" {
			drawnOrdered = append(drawnOrdered, s)
		}
	}
	if list, ok := m["series"].([]any); ok {
		for i, it := range list {
			sm, ok := it.(map[string]any)
			if !ok || i >= len(drawnOrdered) || len(drawnOrdered[i].Marks) == 0 {
				continue
			}
			var data []any
			for _, mk := range drawnOrdered[i].Marks {
				data = append(data, map[string]any{"xAxis": mk.Cat, "name": mk.Label,
					"label": map[string]any{"formatter": mk.Label, "position": "insideEndTop", "color": "#1b1b1b"}})
			}
			sm["markLine"] = map[string]any{"symbol": "none", "silent": true, "data": data,
				"lineStyle": map[string]any{"type": "dashed", "color": "#4d4d4d", "width": 1.5}}
		}
	}
	labels := make([]string, len(drawnOrdered))
	if list, ok := m["series"].([]any); ok {
		for i, it := range list {
			sm, ok := it.(map[string]any)
			if !ok || i >= len(drawnOrdered) || !drawnOrdered[i].Label {
				continue
			}
			labels[i] = drawnOrdered[i].Format
			if drawnOrdered[i].Kind == "line" {
				sm["label"] = map[string]any{"show": true, "position": "top", "color": "#1b1b1b", "fontWeight": "bold",
					"textBorderColor": "#ffffff", "textBorderWidth": 3}
			} else {
				sm["label"] = map[string]any{"show": true, "position": "inside", "color": "#ffffff", "fontWeight": "bold",
					"textBorderColor": "#1b1b1b", "textBorderWidth": 2}
			}
		}
	}
	side := map[string]any{"series": ordered, "ejes": map[string]any{valueKey: axisFormats}, "etiquetas": labels}
	kind := "barras"
	if len(drawn) > 0 && drawn[0].Kind == "line" {
		kind = "líneas"
	}
	desc := describe(x.Title, x.Subtitle, x.Cats, drawn, kind)
	if len(x.Cats) > 24 && !x.Horizontal {
		m["dataZoom"] = []any{map[string]any{"type": "slider", "start": 100 - 100*24/len(x.Cats), "end": 100, "bottom": 28}}
		side["zoom"] = true
	}
	return finish(m, x.ID, desc, side)
}

// emptyOption is the option of a chart with nothing to draw: its message
// in the middle of the canvas.
func emptyOption(title, message string) (json.RawMessage, error) {
	m := map[string]any{
		"title":  map[string]any{"text": title},
		"series": []any{},
		"graphic": []any{map[string]any{"type": "text", "left": "center", "top": "middle",
			"style": map[string]any{"text": message, "fill": "#595959", "fontSize": 14, "width": 320, "overflow": "break"}}},
	}
	return finish(m, "vacio", title+". "+message, map[string]any{})
}

// describe is the chart's aria description, in Spanish.
func describe(title, subtitle string, cats []string, series []serie, kind string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Gráfico de %s: %s.", kind, title)
	if subtitle != "" {
		fmt.Fprintf(&b, " %s.", strings.TrimSuffix(subtitle, "."))
	}
	if len(cats) > 0 {
		fmt.Fprintf(&b, " %d categorías, de %s a %s.", len(cats), cats[0], cats[len(cats)-1])
	}
	if len(series) > 0 {
		names := make([]string, len(series))
		for i, s := range series {
			names[i] = s.Name
		}
		fmt.Fprintf(&b, " Series: %s.", strings.Join(names, "; "))
	}
	b.WriteString(" Los mismos datos están en la tabla que acompaña al gráfico.")
	return b.String()
}

// finish adds what every chart of the observatory carries and marshals the
// option: aria on with a Spanish description and decal patterns, no
// animation, the palette, dashes and symbols for lines, the title hidden
// (the page shows it; graficos.js shows it in saved images), and the
// "observatorio" block that graficos.js reads (value formats) and removes.
// encoding/json escapes <, > and & as \u003c..., so the JSON is inert even
// if it were ever placed in HTML.
func finish(m map[string]any, id, description string, side map[string]any) (json.RawMessage, error) {
	m["aria"] = map[string]any{
		"enabled": true,
		"label":   map[string]any{"enabled": true, "description": description},
		"decal":   map[string]any{"show": true},
	}
	m["animation"] = false
	m["color"] = Palette
	delete(m, "toolbox") // saving is the page's own accessible button
	m["grid"] = map[string]any{"containLabel": true, "left": 16, "right": 24, "top": 40, "bottom": 40}
	m["textStyle"] = map[string]any{"fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif"}
	if tm, ok := m["title"].(map[string]any); ok {
		tm["show"] = false
		tm["left"] = 8
		tm["textStyle"] = map[string]any{"fontSize": 15, "color": "#1b1b1b"}
		tm["subtextStyle"] = map[string]any{"color": "#595959"}
	}
	// richText: the tooltip is drawn on the canvas, never as HTML, so no
	// name can become markup there and the CSP needs no inline styles.
	tooltip := map[string]any{"trigger": "axis", "confine": true, "renderMode": "richText"}
	if tr, _ := side["tooltipTrigger"].(string); tr != "" {
		tooltip["trigger"] = tr
		delete(side, "tooltipTrigger")
	}
	m["tooltip"] = tooltip
	// Series: lines get distinct dashes and symbols.
	series, _ := m["series"].([]any)
	nLine := 0
	for _, it := range series {
		s, ok := it.(map[string]any)
		if ok && s["type"] == "line" {
			s["symbol"] = lineSymbols[nLine%len(lineSymbols)]
			s["symbolSize"] = 8
			s["showSymbol"] = true
			s["lineStyle"] = map[string]any{"width": 2.5, "type": lineDashes[nLine%len(lineDashes)]}
			nLine++
		}
	}
	side["id"] = id
	m["observatorio"] = side
	return json.Marshal(m)
}

// generic turns a go-echarts option into plain JSON values (maps, slices,
// numbers as json.Number) that the finishing steps can edit.
func generic(m map[string]any) (map[string]any, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// encodeCSV writes RFC 4180 CSV. Text that a spreadsheet would take for a
// formula (=, +, -, @ at the start) gets a leading apostrophe; numbers are
// left alone.
func encodeCSV(records [][]string) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	for _, rec := range records {
		out := make([]string, len(rec))
		for i, v := range rec {
			out[i] = csvSafe(v)
		}
		w.Write(out)
	}
	w.Flush()
	return buf.Bytes()
}

func csvSafe(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if _, err := decimal.NewFromString(v); err == nil {
			return v
		}
		return "'" + v
	}
	return v
}
