// Package dashboards builds the observatory's charts with go-echarts and
// serves the pages that show them.
//
// Rendering is split for safety: go-echarts builds the ECharts option, which
// leaves the server only as JSON (escaped by encoding/json, served as
// application/json) and is applied by the observatory's own script. The
// go-echarts HTML renderer is not used: it copies titles and labels into an
// inline script unescaped and turns "__f__" strings into live functions, so
// a municipality name from a source could run as code.
//
// Data flow: the dash_* queries of package analytics aggregate the fact
// tables (committed ETL runs only, amounts withheld below k taxpayers);
// Refresh stores their results as a new version of the dash_agg_* tables
// after each ETL commit, so a visitor's request reads a few thousand rows,
// never the fact tables. A Site caches those results, the charts built
// from them per selection, and the pages, until Invalidate (the ETL's
// commit hook) or a new commit seen in etl_runs empties the cache.
// Responses carry ETags and go gzipped to clients that accept it.
package dashboards

import (
	"encoding/json"
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
	// OptionURL is where graficos.js fetches the option (JSON).
	OptionURL string
	// Explain says, in Spanish, what the chart shows and how it was
	// computed (dashboards; the home chart uses Subtitle).
	Explain []string
	// Empty, when set, replaces the canvas: there is nothing to draw.
	Empty string
	// ImageName is the file name offered by "Guardar como imagen".
	ImageName string
	// EmbedURL is the page showing only this chart in embed mode.
	EmbedURL string

	csv  []byte
	json *Body
}

// Table mirrors a chart for screen readers and for anyone who prefers
// numbers.
type Table struct {
	Caption string
	Header  []string
	Rows    [][]string
	Notes   []string
}
