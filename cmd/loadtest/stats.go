package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// classRec accumulates one class's requests for one worker (no locks: each
// worker has its own, merged at the end).
type classRec struct {
	durations []time.Duration // time to last byte of the successful and failed requests alike
	bytes     int64           // bytes received on the wire (compressed when gzip)
	statuses  map[int]int
	errors    map[string]*errCount
	rates     []float64 // bytes per second of each successful download of at least bigResponse bytes
	slowest   []timed   // the slowest requests, slowest first (at most keepSlowest)
}

// keepSlowest is how many of each class's slowest requests the report names.
const keepSlowest = 5

// noteSlow keeps t if it is among the slowest.
func (r *classRec) noteSlow(t timed) {
	if len(r.slowest) == keepSlowest && t.took <= r.slowest[keepSlowest-1].took {
		return
	}
	i := sort.Search(len(r.slowest), func(i int) bool { return r.slowest[i].took < t.took })
	r.slowest = slices.Insert(r.slowest, i, t)
	if len(r.slowest) > keepSlowest {
		r.slowest = r.slowest[:keepSlowest]
	}
}

type errCount struct {
	n       int
	example string // the first URL that failed this way
}

func newClassRec() *classRec {
	return &classRec{statuses: map[int]int{}, errors: map[string]*errCount{}}
}

// ok reports whether a status counts as success: 2xx and 3xx (a 304 or a
// redirect is a correct answer; the client does not follow it).
func ok(status int) bool { return status >= 200 && status < 400 }

// add records one request. A refusal (429, 503) is told apart by whether it
// says when to come back (Retry-After), as the observatory's limits do.
func (r *classRec) add(d time.Duration, bytes int64, status int, retryAfter string, err error, rawURL string) {
	r.durations = append(r.durations, d)
	r.bytes += bytes
	r.noteSlow(timed{rawURL, d})
	if err == nil {
		r.statuses[status]++
		if ok(status) {
			return
		}
		what := fmt.Sprintf("HTTP %d", status)
		if status == 429 || status == 503 {
			if retryAfter != "" {
				what += " con Retry-After"
			} else {
				what += " sin Retry-After"
			}
		}
		r.fail(what, rawURL)
		return
	}
	r.fail(describeErr(err), rawURL)
}

func (r *classRec) fail(what, rawURL string) {
	e := r.errors[what]
	if e == nil {
		e = &errCount{example: rawURL}
		r.errors[what] = e
	}
	e.n++
}

func (r *classRec) merge(o *classRec) {
	r.durations = append(r.durations, o.durations...)
	r.bytes += o.bytes
	r.rates = append(r.rates, o.rates...)
	for _, t := range o.slowest {
		r.noteSlow(t)
	}
	for s, n := range o.statuses {
		r.statuses[s] += n
	}
	for k, e := range o.errors {
		if m := r.errors[k]; m != nil {
			m.n += e.n
		} else {
			r.errors[k] = &errCount{n: e.n, example: e.example}
		}
	}
}

// describeErr names a transport error by its kind, without the URL (which
// is listed apart), so that equal failures count together.
func describeErr(err error) string {
	switch {
	case errors.Is(err, errTimeout):
		return "tiempo agotado"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "conexión rechazada"
	case errors.Is(err, syscall.ECONNRESET):
		return "conexión reiniciada por el servidor"
	case errors.Is(err, syscall.EPIPE):
		return "conexión cerrada al escribir"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "respuesta cortada (EOF)"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "tiempo agotado"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return "error de transporte: " + err.Error()
}

// errTimeout marks a request that went over the per-request limit.
var errTimeout = errors.New("tiempo agotado")

// percentile is the nearest-rank percentile of sorted durations (p in
// (0, 100]): the smallest value with at least p % of the values at or
// below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

// ClassReport is one class's figures.
type ClassReport struct {
	Class     string  `json:"clase"`
	Requests  int     `json:"peticiones"`
	Errors    int     `json:"errores"`
	PerSecond float64 `json:"peticiones_por_segundo"`
	// Latencies are the time to the last byte of the body, in milliseconds.
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
	Bytes int64   `json:"bytes"`
	// MBPerSecond is the class's aggregate rate (bytes on the wire over the
	// run's duration); BigDownloads counts the downloads of 1 MiB or more
	// and BigDownloadMBps is their median rate, each on its own.
	MBPerSecond     float64        `json:"mb_por_segundo"`
	BigDownloads    int            `json:"descargas_de_1mib_o_mas,omitempty"`
	BigDownloadMBps float64        `json:"mb_por_segundo_por_descarga_grande_p50,omitempty"`
	Statuses        map[string]int `json:"estados"`
	ErrorList       []ErrorReport  `json:"detalle_errores,omitempty"`
	Slowest         []SlowRequest  `json:"mas_lentas,omitempty"`
}

// SlowRequest is one of a class's slowest requests.
type SlowRequest struct {
	URL string  `json:"url"`
	MS  float64 `json:"ms"`
}

// ErrorReport counts one kind of failure.
type ErrorReport struct {
	What    string `json:"error"`
	Count   int    `json:"cantidad"`
	Example string `json:"ejemplo"`
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }

func summarize(name string, r *classRec, elapsed time.Duration) ClassReport {
	sorted := slices.Clone(r.durations)
	slices.Sort(sorted)
	cr := ClassReport{Class: name, Requests: len(sorted), Bytes: r.bytes, Statuses: map[string]int{}}
	for s, n := range r.statuses {
		cr.Statuses[strconv.Itoa(s)] = n
	}
	for what, e := range r.errors {
		cr.Errors += e.n
		cr.ErrorList = append(cr.ErrorList, ErrorReport{What: what, Count: e.n, Example: e.example})
	}
	sort.Slice(cr.ErrorList, func(i, j int) bool {
		if cr.ErrorList[i].Count != cr.ErrorList[j].Count {
			return cr.ErrorList[i].Count > cr.ErrorList[j].Count
		}
		return cr.ErrorList[i].What < cr.ErrorList[j].What
	})
	for _, t := range r.slowest {
		cr.Slowest = append(cr.Slowest, SlowRequest{URL: t.path, MS: ms(t.took)})
	}
	if len(sorted) > 0 {
		cr.P50, cr.P95, cr.P99 = ms(percentile(sorted, 50)), ms(percentile(sorted, 95)), ms(percentile(sorted, 99))
		cr.Max = ms(sorted[len(sorted)-1])
	}
	if s := elapsed.Seconds(); s > 0 {
		cr.PerSecond = round2(float64(cr.Requests) / s)
		cr.MBPerSecond = round2(float64(r.bytes) / 1e6 / s)
	}
	if len(r.rates) > 0 {
		rates := slices.Clone(r.rates)
		slices.Sort(rates)
		cr.BigDownloads = len(rates)
		cr.BigDownloadMBps = round2(rates[(len(rates)-1)/2] / 1e6)
	}
	return cr
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// Report is the whole result, written as JSON.
type Report struct {
	Started time.Time `json:"inicio"`
	Base    string    `json:"base"`
	Clients int       `json:"clientes"`
	// OwnAddresses: each client had its own X-Forwarded-For address.
	OwnAddresses bool           `json:"una_direccion_por_cliente"`
	Duration     string         `json:"duracion"`
	Elapsed      float64        `json:"segundos_medidos"`
	Machine      Machine        `json:"maquina"`
	Mix          map[string]int `json:"mezcla"`
	Targets      map[string]int `json:"rutas_por_clase"`
	Discovery    float64        `json:"segundos_descubrimiento"`
	Classes      []ClassReport  `json:"clases"`
	Total        ClassReport    `json:"total"`
	Memory       *MemoryReport  `json:"memoria,omitempty"`
	SampleFile   string         `json:"muestras,omitempty"`
}

// Machine describes where the run happened: other processes share it, so
// the load average before and after is part of the figures.
type Machine struct {
	CPUs       int    `json:"nucleos"`
	LoadBefore string `json:"carga_antes"`
	LoadAfter  string `json:"carga_despues"`
	Kernel     string `json:"nucleo_linux,omitempty"`
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// writeTable prints the report for people, in Spanish.
func writeTable(w io.Writer, r *Report) {
	who := "todos desde una dirección"
	if r.OwnAddresses {
		who = "cada uno con su dirección"
	}
	fmt.Fprintf(w, "%d clientes (%s) durante %s contra %s (medidos %.1f s); %d núcleos, carga %s antes y %s después\n",
		r.Clients, who, r.Duration, r.Base, r.Elapsed, r.Machine.CPUs, r.Machine.LoadBefore, r.Machine.LoadAfter)
	fmt.Fprintf(w, "%-20s %10s %8s %9s %9s %9s %9s %9s %9s\n", "clase", "peticiones", "errores", "pet/s", "p50 ms", "p95 ms", "p99 ms", "máx ms", "MB/s")
	row := func(c ClassReport) {
		fmt.Fprintf(w, "%-20s %10d %8d %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n", c.Class, c.Requests, c.Errors, c.PerSecond, c.P50, c.P95, c.P99, c.Max, c.MBPerSecond)
	}
	for _, c := range r.Classes {
		row(c)
	}
	row(r.Total)
	for _, c := range r.Classes {
		if c.BigDownloads > 0 {
			fmt.Fprintf(w, "%s: %d respuestas de 1 MiB o más, a %.1f MB/s cada una (mediana)\n", c.Class, c.BigDownloads, c.BigDownloadMBps)
		}
	}
	for _, c := range r.Classes {
		for i, s := range c.Slowest {
			if i == 3 {
				break
			}
			fmt.Fprintf(w, "lenta %s: %.0f ms %s\n", c.Class, s.MS, strings.TrimPrefix(s.URL, r.Base))
		}
	}
	for _, c := range r.Classes {
		for _, e := range c.ErrorList {
			fmt.Fprintf(w, "error %s: %s × %d (p. ej. %s)\n", c.Class, e.What, e.Count, e.Example)
		}
	}
	if m := r.Memory; m != nil {
		writeMemory(w, m)
	}
}
