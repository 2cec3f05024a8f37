package main

import (
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// evil is markup a hostile or broken source could carry in a name: it must
// travel through the ETL unchanged (the warehouse keeps what the source
// said) and reach every page only as text. The browser tests of server/
// check the same strings in a real Chromium (dashtest.Evil); this test
// checks the path from a source file through `etl run` to the HTML.
const evil = `</script><script>window.__xss=1</script>__f__function(){window.__xss=2}__f__<img src=x onerror="window.__xss=3">`

func TestHostileNamesThroughTheETL(t *testing.T) {
	dir := t.TempDir()
	// A DIVIPOLA-shaped source that renames Cáqueza, and a FUT budget line
	// whose entity and rubro carry the same markup.
	writeFile(t, dir, "entidades.csv", "Código Departamento,Código Municipio,Nombre Departamento,Nombre Municipio,Tipo: Municipio / Isla / Área no municipalizada\n"+
		"25,25151,CUNDINAMARCA,\""+strings.ReplaceAll(evil, `"`, `""`)+"\",Municipio\n")
	writeFile(t, dir, "fut.csv", "Cód. DANE Departamento,Nombre DANE Departamento,CODIGO_ENTIDAD,NOMBRE_ENTIDAD,RUBRO,Año,Presupuesto Definitivo,Valor_25\n"+
		"25,CUNDINAMARCA,25151,\""+strings.ReplaceAll(evil, `"`, `""`)+"\",\""+strings.ReplaceAll(evil, `"`, `""`)+"\",2020,1000000.0,1200000.0\n")
	cfg := writeFile(t, dir, "observatorio.yaml", `etl:
  jobs:
    - name: hostil
      sources:
        - {name: entidades, kind: file, record: entity, file: {path: entidades.csv}, mapping: {"Código Departamento": department_code, "Código Municipio": municipality_code, "Nombre Departamento": department_name, "Nombre Municipio": municipality_name, "Tipo: Municipio / Isla / Área no municipalizada": kind}, values: {kind: {Municipio: municipio}}}
        - {name: fut, kind: file, record: budget_line, file: {path: fut.csv}, mapping: {"Cód. DANE Departamento": department_code, "Nombre DANE Departamento": department_name, CODIGO_ENTIDAD: entity_code, NOMBRE_ENTIDAD: entity_name, RUBRO: rubro, "Año": year, "Presupuesto Definitivo": final_budget, Valor_25: value_2025}}
`)
	env := cleanEnv("OBSERVATORIO_CHDB_LIB="+chdbLib(t), "OBSERVATORIO_DATA_DIR="+filepath.Join(dir, "almacen"),
		"OBSERVATORIO_CONFIG="+cfg, "OBSERVATORIO_PSEUDONYM_KEY="+strings.Repeat("cd", 32))
	if code, stderr := runBinary(t, dir, env, "etl", "run"); code != 0 {
		t.Fatalf("etl run: %d\n%s", code, stderr)
	}
	addr := freeAddr(t)
	cmd := exec.Command(binary, "serve")
	cmd.Dir, cmd.Env = dir, append(env, "OBSERVATORIO_HTTP_ADDR="+addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	base := "http://" + addr
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("not ready")
		}
	}
	pages := []string{"/", "/?municipio=25151", "/tableros/presupuesto?municipio=25151", "/tableros/recaudo?municipio=25151",
		"/tableros/municipios.json?q=script", "/gobierno-en-linea", "/calendario/25151/2025", "/datos"}
	sawName := false
	for _, p := range pages {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body := string(b)
		if resp.StatusCode >= 500 {
			t.Errorf("%s: %s", p, resp.Status)
		}
		// The markup never appears raw: not as a script, not as an element.
		for _, raw := range []string{"<script>window.__xss", `<img src=x`, "function(){window.__xss=2}__f__\n"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s carries %q unescaped", p, raw)
			}
		}
		if strings.Contains(body, "window.__xss=1") {
			sawName = true // present, escaped, as text or JSON
		}
	}
	if !sawName {
		t.Error("the hostile name reached no page: the test did not exercise anything")
	}
}
