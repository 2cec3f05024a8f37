package liquidation

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// OutputLine is one JSON line written by the CLI.
type OutputLine struct {
	Line         int           `json:"line"`
	Source       string        `json:"source,omitempty"`
	*Result                    // flattened liquidation (nil on error)
	Verification *Verification `json:"verification,omitempty"`
	Error        *OutputError  `json:"error,omitempty"`
}

// OutputError names the field (or rule) of a failed request.
type OutputError struct {
	Field   string `json:"field,omitempty"`
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message"`
}

func toOutputError(err error) *OutputError {
	var fe *FieldError
	var re *RuleMissingError
	switch {
	case errors.As(err, &fe):
		return &OutputError{Field: fe.Field, Message: fe.Message}
	case errors.As(err, &re):
		return &OutputError{Rule: re.Rule, Message: re.Message}
	}
	return &OutputError{Message: err.Error()}
}

const cliUsage = `uso: observatory liquidate [--explain] [--verify] [--rules RUTA] [ARCHIVO...]

Lee solicitudes de liquidación en JSON Lines (una por línea) desde los archivos o
desde la entrada estándar, y escribe un resultado JSON por línea.

  --explain   incluye en cada renglón los parámetros usados
  --verify    compara los valores publicados (declared, declared_total) con los
              recalculados: match, rounding, discrepancy o unverifiable
  --rules     archivo o carpeta de reglas YAML que se combina con las reglas incluidas

Código de salida: 0 si todas las líneas se procesaron, 1 si alguna falló, 2 por uso
incorrecto o reglas inválidas.
`

// RunCLI implements `observatory liquidate`. It returns the process exit code.
func RunCLI(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("liquidate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	explain := fs.Bool("explain", false, "incluye los parámetros de cada renglón")
	verify := fs.Bool("verify", false, "verifica los valores publicados")
	rulesPath := fs.String("rules", "", "archivo o carpeta de reglas YAML")
	fs.Usage = func() { fmt.Fprint(stderr, cliUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var rules *Rules
	var err error
	if *rulesPath != "" {
		rules, err = LoadRules(*rulesPath)
	} else {
		rules, err = EmbeddedRules()
	}
	if err != nil {
		fmt.Fprintf(stderr, "observatory liquidate: reglas inválidas:\n%v\n", err)
		return 2
	}
	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	failed := false
	process := func(name string, r io.Reader) error {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		n := 0
		for sc.Scan() {
			n++
			if err := ctx.Err(); err != nil {
				return err
			}
			raw := sc.Bytes()
			if len(trimSpace(raw)) == 0 {
				continue
			}
			o := OutputLine{Line: n, Source: name}
			req, derr := DecodeRequest(raw)
			if derr != nil {
				o.Error, failed = toOutputError(derr), true
			} else {
				req.Explain = req.Explain || *explain
				if *verify {
					v := rules.Verify(req)
					o.Verification = v
					o.Result = v.Result
					if o.Result == nil && v.Field == "" {
						o.Result, _ = rules.Liquidate(req)
					}
					if v.Field != "" {
						o.Error, failed = &OutputError{Field: v.Field, Message: v.Reason}, true
					}
				} else {
					res, lerr := rules.Liquidate(req)
					if lerr != nil {
						o.Error, failed = toOutputError(lerr), true
					} else {
						o.Result = res
					}
				}
			}
			if err := enc.Encode(&o); err != nil {
				return err
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	files := fs.Args()
	if len(files) == 0 {
		if err := process("", stdin); err != nil {
			out.Flush()
			fmt.Fprintf(stderr, "observatory liquidate: %v\n", err)
			return 1
		}
	}
	for _, f := range files {
		var rd io.Reader
		var closer io.Closer
		if f == "-" {
			rd = stdin
		} else {
			fh, err := os.Open(f)
			if err != nil {
				out.Flush()
				fmt.Fprintf(stderr, "observatory liquidate: %v\n", err)
				failed = true
				continue
			}
			rd, closer = fh, fh
		}
		err := process(f, rd)
		if closer != nil {
			closer.Close()
		}
		if err != nil {
			out.Flush()
			fmt.Fprintf(stderr, "observatory liquidate: %v\n", err)
			return 1
		}
	}
	if failed {
		return 1
	}
	return 0
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
