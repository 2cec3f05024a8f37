package ingest

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shopspring/decimal"
)

// latin1 encodes text as ISO-8859-1 (every rune of the test texts is < 256).
func latin1(s string) []byte {
	var out []byte
	for _, r := range s {
		if r > 255 {
			panic("not latin-1")
		}
		out = append(out, byte(r))
	}
	return out
}

// igdFile has the columns of the Índice de Gobierno Digital as
// datos.gov.co publishes it, semicolon-separated, in Latin-1, with
// decimal commas (and columns the observatory ignores).
const igdFile = "CÓDIGO SIGEP;ENTIDAD;NIT;ORDEN;SECTOR;DEPARTAMENTO;MUNICIPIO;GRUPO PAR;VIGENCIA;ÍNDICE;PUNTAJE ENTIDAD;PROMEDIO GRUPO PAR;MÁXIMO GRUPO PAR\r\n" +
	"1234;ALCALDÍA DE CÁQUEZA;899999999;Territorial;Alcaldías;CUNDINAMARCA;CÁQUEZA;Municipios categoría 6;2020;ÍNDICE DE GOBIERNO DIGITAL;58,7;55,12;90,4\r\n" +
	"1234;ALCALDÍA DE CÁQUEZA;899999999;Territorial;Alcaldías;CUNDINAMARCA;CÁQUEZA;Municipios categoría 6;2020;TIC para el Estado;61,25;57;91\r\n" +
	"77;ALCALDÍA MUNICIPAL DE FLORENCIA;800095728;Territorial;Alcaldías;CAQUETÁ;FLORENCIA;Municipios categoría 2;2020;ÍNDICE DE GOBIERNO DIGITAL;70;68,5;95\r\n" +
	"88;MINISTERIO DE EDUCACIÓN NACIONAL;899999001;Nacional;Educación;BOGOTÁ D.C.;BOGOTÁ D.C.;Ministerios;2020;ÍNDICE DE GOBIERNO DIGITAL;99,6;;\r\n" +
	"99;ALCALDÍA DE BUCARAMANGA;890201222;Territorial;Alcaldías;SANTANDER;BUCARAMANGA;Ciudades capitales;2020;ÍNDICE DE GOBIERNO DIGITAL;setenta;80;95\r\n"

func TestIGDPreset(t *testing.T) {
	fsys := fstest.MapFS{"igd/indice.csv": {Data: latin1(igdFile)}}
	cfg := IGDFileSource("igd", "igd/*.csv")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	st, err := Open(context.Background(), cfg, WithFS(fsys))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var got []GDIndexScore
	var rejects []Reject
	err = EachOf(context.Background(), st, func(recs []GDIndexScore, rj []Reject) error {
		got = append(got, recs...)
		rejects = append(rejects, rj...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || len(rejects) != 1 {
		t.Fatalf("%d registros, %d rechazos: %+v %v", len(got), len(rejects), got, rejects)
	}
	c := got[0]
	if c.SIGEPCode != "1234" || c.EntityName != "ALCALDÍA DE CÁQUEZA" || c.Municipality != "CÁQUEZA" || c.Year != 2020 ||
		c.Index != "ÍNDICE DE GOBIERNO DIGITAL" || !c.Score.Equal(decimal.RequireFromString("58.7")) ||
		c.PeerAverage == nil || !c.PeerAverage.Equal(decimal.RequireFromString("55.12")) || c.PeerGroup != "Municipios categoría 6" {
		t.Errorf("primera fila: %+v", c)
	}
	if got[3].PeerAverage != nil || !got[3].Score.Equal(decimal.RequireFromString("99.6")) {
		t.Errorf("fila sin promedio: %+v", got[3])
	}
	if rejects[0].Field != "score" || rejects[0].Line != 6 {
		t.Errorf("rechazo: %+v", rejects[0])
	}
	// The Socrata variant reads the same columns by their API names.
	sc := IGDSocrataSource("igd-api", "www.datos.gov.co", "abcd-1234")
	if err := sc.Validate(); err != nil || sc.Mapping["puntaje_entidad"] != "score" {
		t.Errorf("socrata: %v %v", err, sc.Mapping)
	}
}

func TestResolveEntityCode(t *testing.T) {
	for _, c := range []struct{ name, dept, muni, want string }{
		{"ALCALDÍA DE CÁQUEZA", "CUNDINAMARCA", "CÁQUEZA", "25151"},
		{"Alcaldía de Cáqueza", "", "", "25151"},
		{"ALCALDÍA MUNICIPAL DE FLORENCIA", "CAQUETÁ", "", "18001"},
		{"ALCALDÍA MUNICIPAL DE FLORENCIA", "", "", ""}, // Florencia (Caquetá) and Florencia (Cauca)
		{"ALCALDÍA DE FLORENCIA", "CAUCA", "FLORENCIA", "19290"},
		{"ALCALDÍA DE BUCARAMANGA", "", "", "68001"},
		{"ALCALDÍA MAYOR DE BOGOTÁ D.C.", "", "", "11001"},
		{"ALCALDÍA DE LA UNIÓN", "NARIÑO", "", "52399"},
		{"GOBERNACIÓN DE SANTANDER", "", "", "68000"},
		{"Gobernación del Caquetá", "CAQUETÁ", "", "18000"},
		{"CONCEJO MUNICIPAL DE CÁQUEZA", "CUNDINAMARCA", "CÁQUEZA", ""},
		{"MINISTERIO DE EDUCACIÓN NACIONAL", "BOGOTÁ D.C.", "BOGOTÁ D.C.", ""},
		{"ALCALDÍA DE NINGUNAPARTE", "", "", ""},
	} {
		if got := ResolveEntityCode(c.name, c.dept, c.muni); got != c.want {
			t.Errorf("ResolveEntityCode(%q, %q, %q) = %q, se esperaba %q", c.name, c.dept, c.muni, got, c.want)
		}
	}
}

func TestGELActionItems(t *testing.T) {
	csv := "entity_code,plan,item,framework,phase,action,responsible,indicator,goal,deadline,deadline_text,status,completed_on,evidence_url,synthetic\n" +
		"25151,caqueza-gel-2009,int-01,gel2008,Interacción,Implementar el registro como usuario,Comité GELT,,,2009-06-30,Semestre 1/2009,pendiente,,,No\n" +
		"25151,caqueza-gel-2009,int-02,gel2008,Interacción,Permitir descarga de audio,,,,,,En ejecución,,,No\n" +
		"25151,caqueza-gel-2009,int-03,gel2008,Interacción,Consultas de la contratación,,,,2009-12-31,Semestre 2/2009,Terminada,2009-11-15,https://www.caqueza-cundinamarca.gov.co/,Sí\n" +
		"25151,caqueza-gel-2009,int-04,gel2008,Interacción,,,,,2009-12-31,,pendiente,,,No\n" +
		"25151,caqueza-gel-2009,int-05,gel2008,Interacción,Algo,,,,2009-12-31,,a medias,,,No\n"
	cfg := SourceConfig{Name: "plan", Kind: SourceFile, Record: KindGELAction, File: &FileConfig{Path: "plan.csv"}, Encoding: "utf-8", Delimiter: ","}
	st, err := Open(context.Background(), cfg, WithFS(fstest.MapFS{"plan.csv": {Data: []byte(csv)}}))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var got []GELActionItem
	var rejects []Reject
	if err := EachOf(context.Background(), st, func(recs []GELActionItem, rj []Reject) error {
		got, rejects = append(got, recs...), append(rejects, rj...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || len(rejects) != 2 {
		t.Fatalf("%d acciones, %d rechazos: %v", len(got), len(rejects), rejects)
	}
	if got[0].Deadline == nil || got[0].Deadline.String() != "2009-06-30" || got[0].DeadlineText != "Semestre 1/2009" || got[0].Status != ActionPending {
		t.Errorf("acción 1: %+v", got[0])
	}
	if got[1].Deadline != nil || got[1].Status != ActionOngoing {
		t.Errorf("acción 2: %+v", got[1])
	}
	if got[2].Status != ActionDone || got[2].CompletedOn == nil || !got[2].Synthetic {
		t.Errorf("acción 3: %+v", got[2])
	}
	var fields []string
	for _, r := range rejects {
		fields = append(fields, r.Field)
	}
	if strings.Join(fields, ",") != "action,status" {
		t.Errorf("rechazos: %v", rejects)
	}
}
