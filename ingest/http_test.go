package ingest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func paymentsConfig(url string) SourceConfig {
	return SourceConfig{
		Name: "pagos", Kind: SourceHTTP, Record: KindPayment,
		HTTP: &HTTPConfig{URL: url},
		Mapping: map[string]string{"Recibo": "payment_id", "Liquidación": "liquidation_id", "Municipio": "municipality_code",
			"Impuesto": "tax", "Vigencia": "tax_year", "Documento": "taxpayer_id", "Fecha pago": "paid_at",
			"Valor": "amount", "Canal": "channel"},
		Dates:   DatesConfig{Formats: []string{"iso", "dd/mm/yyyy HH:MI[:SS]"}},
		Request: RequestConfig{Timeout: Duration(5 * time.Second), BackoffMin: Duration(time.Millisecond)},
	}
}

func collectPayments(t *testing.T, st *Stream) ([]Payment, []Reject) {
	t.Helper()
	var recs []Payment
	var rejs []Reject
	if err := EachOf(context.Background(), st, func(r []Payment, j []Reject) error {
		recs = append(recs, r...)
		rejs = append(rejs, j...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return recs, rejs
}

func TestHTTPConditionalGET(t *testing.T) {
	body, err := os.ReadFile("testdata/ok/payments.csv")
	if err != nil {
		t.Fatal(err)
	}
	modified := time.Date(2024, 4, 30, 12, 0, 0, 0, time.UTC)
	var gets, full atomic.Int32
	var ignoreConditional atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		w.Header().Set("ETag", `"pagos-v1"`)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		if ignoreConditional.Load() {
			r.Header.Del("If-None-Match")
			r.Header.Del("If-Modified-Since")
		}
		// ServeContent answers If-None-Match / If-Modified-Since with 304
		cw := &countingWriter{ResponseWriter: w, full: &full}
		http.ServeContent(cw, r, "pagos.csv", modified, bytes.NewReader(body))
	}))
	defer srv.Close()

	st, err := Open(context.Background(), paymentsConfig(srv.URL+"/pagos.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, rejs := collectPayments(t, st)
	_ = st.Close()
	state := st.State()
	if state.ETag != `"pagos-v1"` || state.LastModified != "Tue, 30 Apr 2024 12:00:00 GMT" {
		t.Fatalf("state %+v", state)
	}
	if len(recs) != 5 || len(rejs) != 1 || rejs[0].Code != CodeNotAllowed || rejs[0].Field != "channel" || rejs[0].Line != 7 ||
		rejs[0].File != srv.URL+"/pagos.csv" {
		t.Fatalf("records %d, rejects %v", len(recs), rejs)
	}
	channels := []string{}
	for _, p := range recs {
		channels = append(channels, p.Channel)
	}
	if strings.Join(channels, ",") != "pse,presencial,tarjeta,presencial,web" {
		t.Errorf("channels %v", channels)
	}
	if got := recs[0].PaidAt.Format(time.RFC3339); got != "2024-03-15T10:32:00-05:00" {
		t.Errorf("paid_at %s", got)
	}
	if got := recs[2].PaidAt.UTC().Format(time.RFC3339); got != "2024-04-30T22:45:00Z" || recs[2].TaxpayerID != "900123456" || recs[2].TaxpayerIDDV != "8" {
		t.Errorf("paid_at %s id %s-%s", got, recs[2].TaxpayerID, recs[2].TaxpayerIDDV)
	}
	if !recs[0].Amount.Equal(recs[0].Amount) || recs[4].Amount.String() != "755005" {
		t.Errorf("amount %v", recs[4].Amount)
	}

	// second run with the saved validators: 304, nothing to load
	_, err = Open(context.Background(), paymentsConfig(srv.URL+"/pagos.csv"), WithState(state))
	if !errors.Is(err, ErrUnchanged) {
		t.Fatalf("second fetch: %v", err)
	}
	// only Last-Modified known
	_, err = Open(context.Background(), paymentsConfig(srv.URL+"/pagos.csv"), WithState(State{LastModified: state.LastModified}))
	if !errors.Is(err, ErrUnchanged) {
		t.Fatalf("If-Modified-Since: %v", err)
	}
	// a server that ignores the conditional headers but sends the same ETag
	ignoreConditional.Store(true)
	_, err = Open(context.Background(), paymentsConfig(srv.URL+"/pagos.csv"), WithState(state))
	if !errors.Is(err, ErrUnchanged) {
		t.Fatalf("same ETag: %v", err)
	}
	// a changed document is fetched again
	ignoreConditional.Store(false)
	st, err = Open(context.Background(), paymentsConfig(srv.URL+"/pagos.csv"), WithState(State{ETag: `"pagos-v0"`}))
	if err != nil {
		t.Fatal(err)
	}
	recs, _ = collectPayments(t, st)
	if len(recs) != 5 || gets.Load() != 5 || full.Load() != 3 {
		t.Fatalf("records %d, requests %d, full bodies %d", len(recs), gets.Load(), full.Load())
	}
}

type countingWriter struct {
	http.ResponseWriter
	full *atomic.Int32
}

func (c *countingWriter) WriteHeader(code int) {
	if code == http.StatusOK {
		c.full.Add(1)
	}
	c.ResponseWriter.WriteHeader(code)
}

func TestHTTPJSONArray(t *testing.T) {
	doc := `[
	 {"Recibo":"R-1","Municipio":"18001","Impuesto":"predial","Vigencia":2024,"Documento":"1117500001","Fecha pago":"2024-03-15T10:32:00","Valor":270000.5,"Canal":"PSE","extra":{"a":1}},
	 {"Recibo":"R-2","Municipio":18001,"Impuesto":"predial","Vigencia":"2024","Documento":"1117500002","Fecha pago":"2024-03-15","Valor":"abc","Canal":"PSE"},
	 42,
	 {"Recibo":"R-3","Municipio":"18001","Impuesto":"ica","Vigencia":2024,"Documento":null,"Fecha pago":"2024-03-15","Valor":1,"Canal":"banco"}
	]`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(doc))
	}))
	defer srv.Close()
	st, err := Open(context.Background(), paymentsConfig(srv.URL+"/api/pagos"))
	if err != nil {
		t.Fatal(err)
	}
	recs, rejs := collectPayments(t, st)
	if len(recs) != 1 || len(rejs) != 3 {
		t.Fatalf("records %+v rejects %v", recs, rejs)
	}
	if recs[0].Amount.String() != "270000.5" || recs[0].TaxYear != 2024 || recs[0].Origin.Index != 1 {
		t.Errorf("record %+v", recs[0])
	}
	want := []struct {
		index int
		code  string
	}{{2, CodeNumber}, {3, CodeJSONElement}, {4, CodeRequired}}
	for i, w := range want {
		if rejs[i].Index != w.index || rejs[i].Code != w.code || rejs[i].Line != 0 {
			t.Errorf("reject %d: %s", i, rejs[i])
		}
	}
	if s := st.Stats(); s.Read != 4 || strings.Join(s.Parts[0].Ignored, ",") != "extra" {
		t.Errorf("stats %+v", s)
	}
}

func TestHTTPTruncatedJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`[{"Recibo":"R-1","Municipio":"18001","Impuesto":"predial","Vigencia":2024,"Documento":"1117500001","Fecha pago":"2024-03-15","Valor":1,"Canal":"web"},{"Recibo":"R-2","Munic`))
	}))
	defer srv.Close()
	cfg := paymentsConfig(srv.URL + "/x.json")
	st, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = st.Each(context.Background(), func(recs []Record, _ []Reject) error { n += len(recs); return nil })
	var se *SourceError
	if !errors.As(err, &se) || se.Code != CodeMalformedJSON || !strings.Contains(se.Reason, "después del registro 1") || n != 1 {
		t.Fatalf("err %v, records %d", err, n)
	}
}

func TestHTTPBodyStalls(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("Recibo,Municipio,Impuesto,Vigencia,Documento,Fecha pago,Valor,Canal\nR-1,18001,predial,2024,1117500001,2024-03-15,1,web\n"))
		w.(http.Flusher).Flush()
		select { // then nothing
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()
	cfg := paymentsConfig(srv.URL + "/pagos.csv")
	cfg.Request.StallTimeout = Duration(200 * time.Millisecond)
	st, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := 0
	start := time.Now()
	err = st.Each(context.Background(), func(recs []Record, _ []Reject) error { n += len(recs); return nil })
	var te *TimeoutError
	var se *SourceError
	if !errors.As(err, &te) || !errors.As(err, &se) || !strings.Contains(se.Reason, "línea 2") || n != 1 {
		t.Fatalf("err %v, records %d", err, n)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
}
