// Command loadtest measures a running observatory under load: N clients
// (64 by default) ask for its pages, the chart data the pages load, dataset
// downloads (release files whole, filtered exports) and the paged JSON API,
// for a duration (60 s by default), and it reports per class of request the
// count, the errors by status, the throughput and the p50/p95/p99/max time
// to the last byte, as a table and as JSON. With -samples it also samples
// the observatory's memory (RSS, Go heap) every few seconds into a CSV and
// says whether it stayed flat: run it for 10 minutes for the soak.
//
// The routes come from the observatory itself: its dashboards and dataset
// catalog (from the code), the years its filter offers and the charts each
// page loads (from the pages). See scripts/loadtest.sh, which builds the
// binary, generates the demo data, starts the server and runs this.
//
//	go run ./cmd/loadtest -base http://127.0.0.1:8080 [-clients 64] [-duration 60s]
//	    [-json resultado.json] [-pid PID -samples memoria.csv]
//
// `loadtest clickhouse -dir DIR -addr-file F` runs a throwaway ClickHouse
// server for a run on the server engine (see clickhouse.go).
//
// It exits 1 when a request failed (a status other than 2xx/3xx, or a
// transport error), 3 when memory did not stay flat, 2 when it could not
// run.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "clickhouse" {
		os.Exit(clickhouseMain(os.Args[2:]))
	}
	os.Exit(mainErr())
}

func mainErr() int {
	var (
		base      = flag.String("base", "http://127.0.0.1:8080", "dirección del observatorio")
		clients   = flag.Int("clients", 64, "clientes concurrentes (cada uno, una petición a la vez y sin pausa)")
		duration  = flag.Duration("duration", 60*time.Second, "duración de la carga")
		timeout   = flag.Duration("timeout", 60*time.Second, "tiempo máximo de una petición (más cuenta como error)")
		mixFlag   = flag.String("mix", defaultMix, "peso de cada clase de petición")
		munis     = flag.String("municipalities", "18001,68001,25151", "códigos DIVIPOLA de las selecciones (por defecto, los de la demostración)")
		yearsFlag = flag.String("years", "", "años de las selecciones, separados por comas (vacío: los 5 últimos que ofrece el filtro de la página de inicio)")
		apiPages  = flag.Int("api-pages", 5, "páginas que recorre cada consulta a la API JSON siguiendo «siguiente»")
		seed      = flag.Uint64("seed", 1, "semilla de las elecciones de los clientes")
		ownAddr   = flag.Bool("xff", true, "cada cliente se presenta con su propia dirección en X-Forwarded-For (198.18.0.0/15, el bloque para pruebas de rendimiento), que el observatorio cree de un proxy de confianza como 127.0.0.1; con -xff=false todos son una sola dirección")
		jsonOut   = flag.String("json", "", "archivo donde escribir el resultado en JSON")
		pid       = flag.Int("pid", 0, "PID del observatorio, para leer su VmRSS de /proc (sin él, process_resident_memory_bytes de /metrics)")
		samples   = flag.String("samples", "", "archivo CSV de muestras de memoria (activa el muestreo)")
		every     = flag.Duration("every", 5*time.Second, "intervalo del muestreo de memoria")
		window    = flag.Duration("window", time.Minute, "ventana de la comparación de memoria: primera contra última")
		tolerance = flag.Float64("tolerance", 10, "crecimiento máximo (%) de la mediana de memoria de la última ventana sobre la primera")
	)
	flag.Parse()
	mix, err := parseMix(*mixFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		return 2
	}
	var years []int
	for _, y := range splitList(*yearsFlag) {
		n, err := strconv.Atoi(y)
		if err != nil {
			fmt.Fprintf(os.Stderr, "loadtest: año %q no válido\n", y)
			return 2
		}
		years = append(years, n)
	}
	if *clients < 1 || *duration <= 0 {
		fmt.Fprintln(os.Stderr, "loadtest: -clients y -duration deben ser positivos")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	t0 := time.Now()
	discoveryClient := &http.Client{Timeout: 2 * time.Minute}
	p, err := discover(ctx, discoveryClient, *base, discoverOptions{municipalities: splitList(*munis), years: years, workers: 4, apiPages: *apiPages})
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest: descubrimiento de rutas:", err)
		return 2
	}
	discovery := time.Since(t0)
	fmt.Fprintf(os.Stderr, "rutas en %.1f s:", discovery.Seconds())
	for _, c := range classOrder {
		fmt.Fprintf(os.Stderr, " %s %d", c, len(p.targets[c]))
	}
	fmt.Fprintln(os.Stderr)
	for _, s := range p.slowest[:min(8, len(p.slowest))] {
		fmt.Fprintf(os.Stderr, "  %6.0f ms  %s\n", float64(s.took.Microseconds())/1000, s.path)
	}

	rep := &Report{Started: time.Now().UTC(), Base: *base, Clients: *clients, Duration: duration.String(), OwnAddresses: *ownAddr,
		Machine: Machine{CPUs: runtime.NumCPU(), LoadBefore: loadavg(), Kernel: kernel()},
		Mix:     mix, Targets: p.counts(), Discovery: round2(discovery.Seconds()), SampleFile: *samples}

	hc := loadClient(*clients)
	var done atomic.Int64
	var smp []sample
	sampling := *samples != ""
	var sampled chan []sample
	stopSampling := make(chan struct{})
	var smpl *sampler
	if sampling {
		smpl = &sampler{hc: &http.Client{}, metrics: strings.TrimSuffix(*base, "/") + "/metrics", pid: *pid}
		idle := smpl.read(ctx)
		idle.phase = "antes"
		smp = append(smp, idle)
	}
	start := time.Now()
	if sampling {
		sampled = make(chan []sample, 1)
		go func() { sampled <- smpl.loop(ctx, start, *every, &done, stopSampling) }()
	}
	res := run(ctx, hc, p, runOptions{base: *base, clients: *clients, duration: *duration, timeout: *timeout, mix: mix, seed: *seed, ownAddress: *ownAddr, done: &done})
	if sampling {
		close(stopSampling)
		smp = append(smp, <-sampled...)
	}
	rep.Machine.LoadAfter = loadavg()
	rep.Elapsed = round2(res.elapsed.Seconds())
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "loadtest: interrumpido; el informe cubre lo medido hasta ahora")
	}

	all := newClassRec()
	for _, c := range classOrder {
		r := res.classes[c]
		if r == nil {
			continue
		}
		rep.Classes = append(rep.Classes, summarize(c, r, res.elapsed))
		all.merge(r)
	}
	all.rates, all.slowest = nil, nil
	rep.Total = summarize("total", all, res.elapsed)

	status := 0
	if sampling {
		if err := writeSamples(*samples, smp); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			status = 2
		}
		rep.Memory = analyzeMemory(smp, *window, *tolerance)
		rep.Memory.Every = every.String()
		rep.Memory.RSSSource = "/proc/" + strconv.Itoa(*pid) + "/status VmRSS"
		if *pid == 0 {
			rep.Memory.RSSSource = "process_resident_memory_bytes de /metrics"
		}
		if !rep.Memory.Flat && rep.Memory.Note == "" && status == 0 {
			status = 3
		}
	}
	writeTable(os.Stdout, rep)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			return 2
		}
	}
	if rep.Total.Errors > 0 {
		return 1
	}
	return status
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
