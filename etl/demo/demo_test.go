package demo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"

	"github.com/observatorio-civico/observatorio/etl/recompute"
	"github.com/observatorio-civico/observatorio/ingest"
	"github.com/observatorio-civico/observatorio/liquidation"
)

// The default data set is generated once and shared by the tests.
var shared struct {
	once sync.Once
	dir  string
	man  *Manifest
	err  error
	took time.Duration
}

func defaultSet(t *testing.T) (string, *Manifest) {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "observatorio-demo-")
		if shared.err != nil {
			return
		}
		start := time.Now()
		shared.man, shared.err = generateFiles(context.Background(), shared.dir, DefaultOptions())
		shared.took = time.Since(start)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.dir, shared.man
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// jobConfig mirrors the part of the observatory's configuration the demo
// writes (etl.Config; the external test config_test.go decodes it with the
// ETL's own types).
type jobConfig struct {
	Demo bool `yaml:"demo"`
	ETL  struct {
		Jobs []struct {
			Name     string                `yaml:"name"`
			Schedule string                `yaml:"schedule"`
			Timeout  ingest.Duration       `yaml:"timeout"`
			Retries  int                   `yaml:"retries"`
			Sources  []ingest.SourceConfig `yaml:"sources"`
		} `yaml:"jobs"`
	} `yaml:"etl"`
}

// sources reads the generated configuration: every job's sources parse
// with ingest.ParseSources, and file paths are resolved against dir.
func sources(t *testing.T, dir string) (jobConfig, []ingest.SourceConfig) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var cfg jobConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("configuration: %v", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	var out []ingest.SourceConfig
	parser := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	for _, j := range cfg.ETL.Jobs {
		if _, err := parser.Parse(j.Schedule); err != nil {
			t.Errorf("job %s: schedule %q: %v", j.Name, j.Schedule, err)
		}
		if j.Timeout <= 0 || j.Retries != 2 {
			t.Errorf("job %s: timeout %v retries %d", j.Name, j.Timeout, j.Retries)
		}
		// the sources as the ETL reads them: ParseSources on the YAML
		sb, err := yaml.Marshal(map[string]any{"sources": j.Sources})
		if err != nil {
			t.Fatal(err)
		}
		list, err := ingest.ParseSources(sb)
		if err != nil {
			t.Fatalf("job %s: %v", j.Name, err)
		}
		for _, s := range list {
			if s.File != nil && !filepath.IsAbs(s.File.Path) {
				s.File.Path = filepath.Join(dir, s.File.Path)
			}
			out = append(out, s)
		}
	}
	return cfg, out
}

func TestConfigDeclaresEveryJob(t *testing.T) {
	dir, _ := defaultSet(t)
	cfg, srcs := sources(t, dir)
	if !cfg.Demo {
		t.Error("demo: false")
	}
	var names []string
	for _, j := range cfg.ETL.Jobs {
		names = append(names, j.Name)
	}
	want := "florencia-liquidaciones florencia-pagos bucaramanga-liquidaciones bucaramanga-pagos caqueza-liquidaciones caqueza-pagos gel-mediciones divipola fut"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("jobs = %s\nwant   %s", got, want)
	}
	if len(srcs) != 9 {
		t.Errorf("%d sources", len(srcs))
	}
}

// decoded is what the generated files decode to.
type decoded struct {
	perFile    map[string]*fileCount
	liqs       int
	status     map[string]map[liquidation.Status]int // by file
	devIDs     map[string]liquidation.Status         // example id -> status
	bgaQ3Elec  map[string]int64
	bgaQ3Web   map[string]int64
	collected  map[string]map[int]decimal.Decimal // municipality -> year -> pesos
	gel        map[string][2]decimal.Decimal      // "25151|2009-08-31|phase" -> sum, count
	personal   map[string]map[string]int          // municipality -> personal field -> rows with a value
	warnings   map[string]int64
	liqRecords map[string][]ingest.Liquidation // a few per municipality, for spot checks
}

type fileCount struct {
	rows, records, rejects int64
	codes                  map[int]string // line -> code
}

var decodedOnce struct {
	sync.Once
	d   *decoded
	err error
}

// decodeAll reads every source of the generated configuration with ingest
// and verifies every liquidation with the liquidation core.
func decodeAll(t *testing.T) *decoded {
	t.Helper()
	dir, _ := defaultSet(t)
	decodedOnce.Do(func() {
		_, man := defaultSet(t)
		decodedOnce.d, decodedOnce.err = decodeDir(t, dir, man)
	})
	if decodedOnce.err != nil {
		t.Fatal(decodedOnce.err)
	}
	return decodedOnce.d
}

func decodeDir(t *testing.T, dir string, man *Manifest) (*decoded, error) {
	_, srcs := sources(t, dir)
	rules := liquidation.MustEmbeddedRules()
	d := &decoded{perFile: map[string]*fileCount{}, status: map[string]map[liquidation.Status]int{}, devIDs: map[string]liquidation.Status{},
		bgaQ3Elec: map[string]int64{}, bgaQ3Web: map[string]int64{}, collected: map[string]map[int]decimal.Decimal{},
		gel: map[string][2]decimal.Decimal{}, personal: map[string]map[string]int{}, warnings: map[string]int64{},
		liqRecords: map[string][]ingest.Liquidation{}}
	examples := map[string]bool{}
	for _, f := range man.Files {
		for _, id := range append(append([]string(nil), f.DiscrepancyExamples...), f.UnverifiableExamples...) {
			examples[id] = true
		}
	}
	bogota, _ := time.LoadLocation("America/Bogota")
	q3lo, q3hi := time.Date(2020, 7, 1, 0, 0, 0, 0, bogota), time.Date(2020, 10, 1, 0, 0, 0, 0, bogota)
	rel := func(p string) string { r, _ := filepath.Rel(dir, p); return filepath.ToSlash(r) }
	ctx := context.Background()
	for _, src := range srcs {
		st, err := ingest.Open(ctx, src)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.Name, err)
		}
		err = st.Each(ctx, func(recs []ingest.Record, rejects []ingest.Reject) error {
			for _, rj := range rejects {
				fc := d.file(rel(rj.File))
				fc.codes[rj.Line] = rj.Code
			}
			for _, r := range recs {
				switch x := r.(type) {
				case *ingest.Liquidation:
					d.liqs++
					file := rel(x.Origin.File)
					v := rules.Verify(recompute.Request(rules, x))
					if d.status[file] == nil {
						d.status[file] = map[liquidation.Status]int{}
					}
					d.status[file][v.Status]++
					if examples[x.LiquidationID] {
						d.devIDs[x.LiquidationID] = v.Status
					}
					if x.MunicipalityCode == "68001" && x.FilingChannel == ingest.ChannelWeb && x.Tax != ingest.TaxPredial {
						if it := x.IssueDate.Time(); !it.Before(time.Date(2020, 7, 1, 0, 0, 0, 0, time.UTC)) && it.Before(time.Date(2020, 10, 1, 0, 0, 0, 0, time.UTC)) {
							d.bgaQ3Web[x.Tax]++
						}
					}
					p := d.personal[x.MunicipalityCode]
					if p == nil {
						p = map[string]int{}
						d.personal[x.MunicipalityCode] = p
					}
					for name, v := range map[string]string{"taxpayer_id": x.TaxpayerID, "taxpayer_name": x.TaxpayerName,
						"taxpayer_address": x.TaxpayerAddress, "taxpayer_phone": x.TaxpayerPhone, "taxpayer_email": x.TaxpayerEmail,
						"property_id": x.PropertyID} {
						if v != "" {
							p[name]++
						}
					}
					if len(d.liqRecords[x.MunicipalityCode]) < 50 {
						d.liqRecords[x.MunicipalityCode] = append(d.liqRecords[x.MunicipalityCode], *x)
					}
				case *ingest.Payment:
					if x.MunicipalityCode == "68001" && !x.PaidAt.Before(q3lo) && x.PaidAt.Before(q3hi) &&
						(x.Channel == ingest.ChannelWeb || x.Channel == ingest.ChannelPSE || x.Channel == ingest.ChannelCard) {
						d.bgaQ3Elec[x.Tax]++
					}
					c := d.collected[x.MunicipalityCode]
					if c == nil {
						c = map[int]decimal.Decimal{}
						d.collected[x.MunicipalityCode] = c
					}
					y := x.PaidAt.In(bogota).Year()
					c[y] = c[y].Add(x.Amount)
				case *ingest.GELMeasurement:
					k := fmt.Sprintf("%s|%s|%s", x.EntityCode, x.MeasuredOn, x.Phase)
					s := d.gel[k]
					d.gel[k] = [2]decimal.Decimal{s[0].Add(x.Value), s[1].Add(decimal.NewFromInt(1))}
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.Name, err)
		}
		stats := st.Stats()
		if stats.Read != stats.Records+stats.Rejects+stats.Blank {
			return nil, fmt.Errorf("%s: read %d != records %d + rejects %d + blank %d", src.Name, stats.Read, stats.Records, stats.Rejects, stats.Blank)
		}
		for _, p := range stats.Parts {
			fc := d.file(rel(p.Name))
			fc.rows += p.Rows
			fc.rejects += p.Rejects
			fc.records += p.Rows - p.Rejects
		}
		for k, v := range stats.WarningsByCode {
			d.warnings[k] += v
		}
		st.Close()
	}
	return d, nil
}

func (d *decoded) file(rel string) *fileCount {
	fc := d.perFile[rel]
	if fc == nil {
		fc = &fileCount{codes: map[int]string{}}
		d.perFile[rel] = fc
	}
	return fc
}

// Loaded + quarantined = read, file by file, with exactly the bad rows of
// the manifest rejected, on the lines it gives, for the reasons it gives.
func TestFilesDecodeAsTheManifestSays(t *testing.T) {
	_, man := defaultSet(t)
	d := decodeAll(t)
	checkFiles(t, man, d)
	// Cáqueza writes CIIU 0141 as 141 (an Excel habit): padded, with a warning
	if d.warnings[ingest.CodePadded] == 0 {
		t.Error("no padded CIIU warning")
	}
}

func checkFiles(t *testing.T, man *Manifest, d *decoded) {
	seen := 0
	for _, f := range man.Files {
		fc := d.perFile[f.Path]
		if fc == nil {
			t.Errorf("%s: not read by any source of the configuration", f.Path)
			continue
		}
		seen++
		if fc.rows != int64(f.DataRows) || fc.records != int64(f.Records) || fc.rejects != int64(f.Rejected) {
			t.Errorf("%s: read %d rows, %d records, %d rejects; manifest %d, %d, %d", f.Path, fc.rows, fc.records, fc.rejects, f.DataRows, f.Records, f.Rejected)
		}
		want := map[int]string{}
		for _, b := range f.BadRowList {
			want[b.Line] = b.Code
		}
		if fmt.Sprint(want) != fmt.Sprint(fc.codes) {
			t.Errorf("%s: rejects %v, manifest %v", f.Path, fc.codes, want)
		}
		n := 0
		for _, c := range f.BadRows {
			n += c
		}
		if n != f.Rejected || len(f.BadRowList) != n || f.Records+f.Rejected != f.DataRows {
			t.Errorf("%s: manifest does not add up: %+v", f.Path, f)
		}
	}
	if seen != len(d.perFile) {
		t.Errorf("the sources read %d files, the manifest lists %d", len(d.perFile), seen)
	}
	// every kind of bad row is there
	codes := map[string]bool{}
	for _, f := range man.Files {
		for c := range f.BadRows {
			codes[c] = true
		}
	}
	for _, c := range []string{ingest.CodeDate, ingest.CodeDateTime, ingest.CodeNumber, ingest.CodeMunicipalityUnk, ingest.CodeDuplicateKey,
		ingest.CodeRequired, ingest.CodeQuoteUnterm, ingest.CodeCheckDigit, ingest.CodeNotAllowed, ingest.CodeRange, ingest.CodeMunicipality} {
		if !codes[c] {
			t.Errorf("no bad row with code %s", c)
		}
	}
}

// The liquidation core verifies every liquidation as match or rounding,
// except exactly the deliberate discrepancies and unverifiable rows.
func TestVerificationFindsExactlyTheDeliberateDeviations(t *testing.T) {
	_, man := defaultSet(t)
	checkVerification(t, man, decodeAll(t))
}

func checkVerification(t *testing.T, man *Manifest, d *decoded) {
	var total, good, disc, unver int
	for _, f := range man.Files {
		if f.Record != "liquidation" {
			continue
		}
		st := d.status[f.Path]
		wd, wu := 0, 0
		for _, n := range f.Discrepancies {
			wd += n
		}
		for _, n := range f.Unverifiable {
			wu += n
		}
		if st[liquidation.StatusDiscrepancy] != wd || st[liquidation.StatusUnverifiable] != wu ||
			st[liquidation.StatusMatch]+st[liquidation.StatusRounding] != f.Records-wd-wu {
			t.Errorf("%s: verification %v; manifest: %d records, %d discrepancies %v, %d unverifiable %v",
				f.Path, st, f.Records, wd, f.Discrepancies, wu, f.Unverifiable)
		}
		total += f.Records
		good += st[liquidation.StatusMatch] + st[liquidation.StatusRounding]
		disc += st[liquidation.StatusDiscrepancy]
		unver += st[liquidation.StatusUnverifiable]
		for _, id := range f.DiscrepancyExamples {
			if d.devIDs[id] != liquidation.StatusDiscrepancy {
				t.Errorf("%s: example %s verifies as %s", f.Path, id, d.devIDs[id])
			}
		}
		for _, id := range f.UnverifiableExamples {
			if d.devIDs[id] != liquidation.StatusUnverifiable {
				t.Errorf("%s: example %s verifies as %s", f.Path, id, d.devIDs[id])
			}
		}
	}
	if disc == 0 || unver == 0 || total != d.liqs {
		t.Errorf("discrepancies %d, unverifiable %d, liquidations %d (decoded %d)", disc, unver, total, d.liqs)
	}
	t.Logf("%d liquidations: %d match or rounding, %d discrepancies, %d unverifiable", total, good, disc, unver)
}

// The seeds' figures, computed from the decoded records.
func TestCalibrationFromDecodedRecords(t *testing.T) {
	_, man := defaultSet(t)
	d := decodeAll(t)
	wantElec := map[string]int64{"ica": 1727, "predial": 2960, "reteica": 1576}
	wantWeb := map[string]int64{"ica": 250, "reteica": 5388}
	if fmt.Sprint(d.bgaQ3Elec) != fmt.Sprint(wantElec) {
		t.Errorf("Bucaramanga Q3 2020 electronic payments = %v, want %v", d.bgaQ3Elec, wantElec)
	}
	if fmt.Sprint(d.bgaQ3Web) != fmt.Sprint(wantWeb) {
		t.Errorf("Bucaramanga Q3 2020 declarations filed on line = %v, want %v", d.bgaQ3Web, wantWeb)
	}
	if fmt.Sprint(man.Calibration.BucaramangaQ3.ElectronicPayments) != fmt.Sprint(wantElec) ||
		man.Calibration.BucaramangaQ3.ElectronicPaymentsTotal != 6263 || man.Calibration.BucaramangaQ3.OnlineDeclarationsTotal != 5638 {
		t.Errorf("manifest calibration %+v", man.Calibration.BucaramangaQ3)
	}
	c12, c13 := d.collected["18001"][2012], d.collected["18001"][2013]
	ratio := c13.Div(c12)
	if ratio.LessThan(decimal.RequireFromString("1.195")) || ratio.GreaterThan(decimal.RequireFromString("1.205")) {
		t.Errorf("Florencia collections 2013/2012 = %s / %s = %s, want 1.20 ± 0.005", c13, c12, ratio)
	}
	if man.Calibration.Florencia.Collections2012 != c12.String() || man.Calibration.Florencia.Collections2013 != c13.String() {
		t.Errorf("manifest says %+v, decoded %s and %s", man.Calibration.Florencia, c12, c13)
	}
	for code, f := range map[string]MunicipalityFigures{"18001": man.Municipalities[0], "68001": man.Municipalities[1], "25151": man.Municipalities[2]} {
		for y, v := range d.collected[code] {
			if f.CollectionsByYear[fmt.Sprint(y)] != v.String() {
				t.Errorf("%s %d: collected %s, manifest %s", code, y, v, f.CollectionsByYear[fmt.Sprint(y)])
			}
		}
	}
	want := map[string]string{"informacion": "90", "interaccion": "70", "transaccion": "5", "transformacion": "0", "democracia": "0"}
	for phase, pct := range want {
		s := d.gel["25151|2009-08-31|"+phase]
		if s[1].IsZero() || !s[0].Div(s[1]).Equal(decimal.RequireFromString(pct)) {
			t.Errorf("Cáqueza GEL August 2009 %s = %v, want %s %%", phase, s, pct)
		}
		if man.Calibration.CaquezaGEL2009[phase] != pct {
			t.Errorf("manifest GEL %s = %s", phase, man.Calibration.CaquezaGEL2009[phase])
		}
	}
	t.Logf("Florencia collections 2012 %s, 2013 %s, ratio %s", c12, c13, ratio.StringFixed(4))
}

// The source files carry the personal data a municipal export has, so the
// ETL has something to pseudonymize and drop.
func TestPersonalDataPresent(t *testing.T) {
	dir, _ := defaultSet(t)
	d := decodeAll(t)
	schema, _ := ingest.SchemaFor(ingest.KindLiquidation)
	for _, code := range []string{"18001", "68001", "25151"} {
		for _, f := range schema.PersonalFields() {
			if d.personal[code][f] == 0 {
				t.Errorf("%s: no liquidation with %s", code, f)
			}
		}
	}
	// raw forms: Florencia's cédulas with dots and NITs with check digit,
	// Windows-1252 accents; Bucaramanga's names in capitals.
	b, err := os.ReadFile(filepath.Join(dir, "florencia", "liquidaciones_2013.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("Nombre del contribuyente")) {
		t.Error("no name column")
	}
	if !bytes.Contains(b, []byte("C\xe9dula/NIT")) || bytes.Contains(b, []byte("C\xc3\xa9dula")) {
		t.Error("Florencia's file is not Windows-1252")
	}
	recs := d.liqRecords["18001"]
	sort.Slice(recs, func(i, j int) bool { return recs[i].LiquidationID < recs[j].LiquidationID })
	if len(recs) == 0 || !bytes.Contains(b, []byte("@example.")) {
		t.Error("no e-mail addresses")
	}
}

// Other seeds and a smaller scale keep the same guarantees.
func TestOtherSeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	for _, seed := range []uint64{1, 2} {
		dir := t.TempDir()
		man, err := Generate(context.Background(), dir, Options{Seed: seed, Scale: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		d, err := decodeDir(t, dir, man)
		if err != nil {
			t.Fatal(err)
		}
		checkFiles(t, man, d)
		checkVerification(t, man, d)
		r := decimal.RequireFromString(man.Calibration.Florencia.Ratio)
		if r.LessThan(decimal.RequireFromString("1.195")) || r.GreaterThan(decimal.RequireFromString("1.205")) {
			t.Errorf("seed %d: Florencia 2013/2012 = %s", seed, r)
		}
	}
}
