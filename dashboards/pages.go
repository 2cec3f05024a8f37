package dashboards

import (
	"embed"
	"html/template"
	"io"
	"io/fs"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// Assets are the files served under /static/: the observatory's CSS and
// script, and ECharts from the npm package, vendored at a pinned version
// (see scripts/update-echarts.sh).
func Assets() fs.FS {
	sub, err := fs.Sub(assetFiles, "assets")
	if err != nil {
		panic(err)
	}
	return sub
}

// pages holds the layout; each page adds its own "content" to a clone.
var pages = template.Must(template.ParseFS(templateFiles, "templates/base.html"))

// Page is what every page template receives.
type Page struct {
	Title       string
	Description string
	Demo        bool
	Engine      string
	Charts      []*Chart
}

// Summary is the home page's headline figures, formatted.
type Summary struct {
	Liquidations           string
	Payments               string
	Municipalities         string
	MunicipalitiesWithData string
	LastLoad               string
}

// HomePage is the data of the home page.
type HomePage struct {
	Page
	Summary Summary
	K       int
}

// RenderHome writes the home page.
func RenderHome(w io.Writer, p *HomePage) error {
	t, err := pages.Clone()
	if err != nil {
		return err
	}
	t, err = t.ParseFS(templateFiles, "templates/inicio.html")
	if err != nil {
		return err
	}
	return t.ExecuteTemplate(w, "base", p)
}
