package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/observatorio-civico/observatorio/warehouse/chserver"
)

// clickhouseMain is `loadtest clickhouse -dir DIR -addr-file F`: a
// throwaway ClickHouse server (the tests' harness, warehouse/chserver) for a
// load run on the server engine. It writes "native-addr http-addr user
// password" to F once the server answers and keeps it running until
// SIGTERM or SIGINT; the data stays in DIR for the next run.
func clickhouseMain(args []string) int {
	fs := flag.NewFlagSet("clickhouse", flag.ContinueOnError)
	dir := fs.String("dir", "", "carpeta de datos y registros del servidor (se conserva)")
	addrFile := fs.String("addr-file", "", "archivo donde escribir «dirección-nativa dirección-http usuario contraseña»")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" || *addrFile == "" {
		fmt.Fprintln(os.Stderr, "loadtest clickhouse: faltan -dir y -addr-file")
		return 2
	}
	s, err := chserver.Launch(chserver.Options{Name: "carga"}, *dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest clickhouse:", err)
		return 1
	}
	defer s.Stop()
	line := fmt.Sprintf("%s %s %s %s\n", s.Addr(), s.HTTPAddr(), s.User(), s.Password())
	if err := os.WriteFile(*addrFile, []byte(line), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest clickhouse:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "servidor ClickHouse %s: nativo %s, http %s, datos en %s\n", s.Version(), s.Addr(), s.HTTPAddr(), s.DataDir())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	os.Remove(*addrFile)
	return 0
}
