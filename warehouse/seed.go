package warehouse

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"time"

	"github.com/observatorio-civico/observatorio/reference"
)

// SeedEntities loads DANE's DIVIPOLA list (shipped in the binary) into
// entities when the table is empty: the 1,122 municipalities and
// non-municipalized areas, plus one row per department (2-digit code). It
// returns how many rows it inserted (0 when the table was already loaded).
// The ETL's DIVIPOLA job reloads the same list from a configured source;
// this seed makes a new warehouse usable before any job has run.
func SeedEntities(ctx context.Context, e Engine) (int, error) {
	res, err := e.Query(ctx, "SELECT count() FROM entities")
	if err != nil {
		return 0, err
	}
	if res.Rows[0][0].(uint64) > 0 {
		return 0, nil
	}
	rows, err := divipolaRows(reference.DIVIPOLA(), time.Now().UTC().Truncate(time.Second))
	if err != nil {
		return 0, err
	}
	cols := []string{"code", "department_code", "department_name", "name", "kind", "updated_at"}
	if err := e.Insert(ctx, "entities", cols, rows); err != nil {
		return 0, err
	}
	return len(rows), nil
}

// divipolaRows reads the DIVIPOLA CSV (header: Código Departamento, Código
// Municipio, Nombre Departamento, Nombre Municipio, Tipo).
func divipolaRows(data []byte, now time.Time) ([][]any, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = 5
	if _, err := r.Read(); err != nil {
		return nil, fmt.Errorf("divipola.csv: cabecera: %w", err)
	}
	var rows [][]any
	depts := map[string]string{}
	var order []string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("divipola.csv: %w", err)
		}
		dc, code, dn, name, kind := rec[0], rec[1], rec[2], rec[3], rec[4]
		if len(code) != 5 || len(dc) != 2 || code[:2] != dc {
			line, _ := r.FieldPos(1)
			return nil, fmt.Errorf("divipola.csv, línea %d, campo Código Municipio: código %q inválido", line, code)
		}
		rows = append(rows, []any{code, dc, dn, name, kind, now})
		if _, ok := depts[dc]; !ok {
			depts[dc] = dn
			order = append(order, dc)
		}
	}
	for _, dc := range order {
		rows = append(rows, []any{dc, dc, depts[dc], depts[dc], "Departamento", now})
	}
	return rows, nil
}
