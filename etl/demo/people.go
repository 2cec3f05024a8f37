package demo

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Synthetic people and companies. Nothing here comes from a real register:
//   - cédulas are 10-digit numbers between 1.300.000.000 and 1.999.999.999,
//     a range the Registraduría has not issued yet, and NITs of companies are
//     9-digit numbers from 960.000.000 to 989.999.999 (also unissued), with
//     the DIAN check digit, so they look right and pass the checks without
//     being anybody's number;
//   - e-mail addresses use the domains reserved for examples (RFC 2606:
//     example.com, example.net, example.org and the .example top-level
//     domain);
//   - names, addresses and phone numbers are combined at random from common
//     Colombian given names, surnames, street names and neighbourhoods.

var givenF = []string{"María", "Luz", "Ana", "Sandra", "Diana", "Claudia", "Gloria", "Martha", "Blanca", "Yolanda",
	"Nelly", "Doris", "Esperanza", "Rosalba", "Ligia", "Marleny", "Yamile", "Leidy", "Paola", "Carolina",
	"Andrea", "Natalia", "Lina", "Yuliana", "Aura", "Cecilia", "Omaira", "Fanny", "Nubia", "Luisa"}

var givenF2 = []string{"Fernanda", "Marina", "Elena", "Stella", "Cristina", "Patricia", "Alejandra", "Isabel", "del Pilar", "Consuelo", "Amparo", "Milena"}

var givenM = []string{"José", "Luis", "Carlos", "Jorge", "Andrés", "Juan", "Jhon", "Édgar", "Fabio", "Óscar",
	"Wilson", "Hernán", "Orlando", "Fredy", "Álvaro", "Jaime", "Rubén", "Nelson", "Germán", "Édison",
	"Camilo", "Sebastián", "Julián", "Diego", "Mauricio", "Alirio", "Gustavo", "Arnulfo", "Ramiro", "Héctor"}

var givenM2 = []string{"Carlos", "Alberto", "Eduardo", "Fernando", "Antonio", "Alirio", "Mauricio", "Enrique", "Javier", "David", "Andrés", "Felipe"}

var apellidos = []string{"Rodríguez", "Gómez", "González", "Martínez", "García", "López", "Hernández", "Sánchez",
	"Ramírez", "Pérez", "Díaz", "Muñoz", "Rojas", "Moreno", "Jiménez", "Vargas", "Castro", "Ortiz", "Rubio",
	"Marín", "Suárez", "Cárdenas", "Quintero", "Peña", "Ardila", "Sarmiento", "Parra", "Rueda", "Mantilla",
	"Serrano", "Ortega", "Cuéllar", "Trujillo", "Perdomo", "Artunduaga", "Losada", "Silva", "Bautista",
	"Beltrán", "Romero", "Ospina", "Arias", "Camacho", "Niño", "Villamizar", "Acevedo", "Calderón", "Patiño",
	"Velásquez", "Osorio", "Galvis", "Prada", "Barrera", "Murcia", "Valderrama", "Londoño", "Carvajal", "Cortés"}

// company name parts by CIIU activity.
var companyByCIIU = map[string][]string{
	"0141": {"Ganadería %s", "Hacienda %s", "Agropecuaria %s S.A.S.", "Inversiones Ganaderas %s"},
	"1011": {"Frigorífico %s S.A.S.", "Carnes %s Ltda.", "Procesadora de Carnes %s S.A.S."},
	"1081": {"Panadería %s", "Panificadora %s S.A.S.", "Panadería y Pastelería %s", "Panadería \"%s\""},
	"4711": {"Supermercado %s", "Autoservicio %s", "Minimercado %s", "Distribuidora %s S.A.S.", "Comercializadora %s S.A.S."},
	"4732": {"Lubricantes %s", "Serviteca %s", "Lubricentro %s S.A.S."},
	"4771": {"Boutique %s", "Almacén %s", "Confecciones %s S.A.S.", "Modas %s"},
	"4923": {"Transportes %s S.A.S.", "Transportadora %s Ltda.", "Carga y Logística %s S.A.S."},
	"5611": {"Restaurante %s", "Asadero %s", "Comidas Típicas %s", "Restaurante y Parrilla %s"},
	"6201": {"Soluciones Informáticas %s S.A.S.", "Software %s S.A.S.", "Desarrollos Digitales %s S.A.S."},
	"6412": {"Banco Cooperativo %s S.A.", "Financiera %s S.A."},
	"6910": {"%s Abogados Asociados S.A.S.", "Consultoría Jurídica %s S.A.S.", "Bufete %s & Asociados"},
	"8621": {"Consultorio Médico %s", "Centro Médico %s S.A.S.", "IPS %s S.A.S."},
	// activities outside the rules (deliberately unverifiable rows)
	"9602": {"Peluquería %s", "Salón de Belleza %s"},
	"4530": {"Autopartes %s S.A.S.", "Repuestos %s"},
}

// agentNames are the withholding agents (ReteICA): large buyers.
var agentNames = []string{"Constructora %s S.A.S.", "Cooperativa Multiactiva %s", "Grupo Empresarial %s S.A.S.",
	"Consorcio Vial %s", "Clínica %s S.A.S.", "Almacenes %s S.A.", "Colegio %s", "Estación de Servicio %s",
	"Distribuidora Mayorista %s S.A.S.", "Hotel %s S.A.S.", "Ingeniería y Obras %s S.A.S.", "Comercializadora %s S.A."}

var fancy = []string{"La Esperanza", "El Progreso", "San Rafael", "La Economía", "El Roble", "Los Andes",
	"Santa Lucía", "El Porvenir", "La Estrella", "San José", "El Triunfo", "La Orquídea", "Oriente",
	"La Sabana", "El Dorado", "Buena Vista", "La Primavera", "San Martín", "El Mirador", "La Palma",
	"Andina", "Del Sur", "Central", "Santander", "Amazonía", "La Fortuna", "El Edén", "Monserrate"}

// party is a taxpayer as a municipal system knows it.
type party struct {
	natural bool
	id      string // digits, without check digit
	dv      string // DIAN check digit ("" for a cédula without RUT)
	given   string // natural persons: given names
	sur     string // natural persons: surnames
	name    string // full name or company name
	phone   string
	email   string
}

// nitDV is the DIAN check digit (modulo 11) of a NIT.
func nitDV(id string) string {
	weights := [...]int{3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71}
	sum := 0
	for i, j := len(id)-1, 0; i >= 0 && j < len(weights); i, j = i-1, j+1 {
		sum += int(id[i]-'0') * weights[j]
	}
	r := sum % 11
	if r > 1 {
		r = 11 - r
	}
	return strconv.Itoa(r)
}

// naturalPerson draws a person. withRUT gives the person a check digit (a
// natural person registered in the RUT uses the cédula as NIT).
func naturalPerson(r *rnd, m *muniProfile, withRUT bool) party {
	p := party{natural: true}
	p.id = strconv.FormatUint(1_300_000_000+r.u64()%700_000_000, 10)
	if withRUT {
		p.dv = nitDV(p.id)
	}
	female := r.chance(0.5)
	var g string
	if female {
		g = givenF[r.intn(len(givenF))]
		if r.chance(0.55) {
			g += " " + givenF2[r.intn(len(givenF2))]
		}
	} else {
		g = givenM[r.intn(len(givenM))]
		if r.chance(0.5) {
			g += " " + givenM2[r.intn(len(givenM2))]
		}
	}
	s1 := apellidos[r.intn(len(apellidos))]
	s2 := apellidos[r.intn(len(apellidos))]
	p.given, p.sur = g, s1+" "+s2
	p.name = g + " " + p.sur
	p.phone = m.phone(r)
	if r.chance(0.7) {
		first := strings.Fields(asciiLower(g))[0]
		last := strings.Fields(asciiLower(s1))[0]
		doms := [...]string{"example.com", "example.net", "example.org"}
		switch r.intn(3) {
		case 0:
			p.email = first + "." + last + strconv.Itoa(r.intn(99)) + "@" + doms[r.intn(3)]
		case 1:
			p.email = first[:1] + last + strconv.Itoa(1950+r.intn(55)) + "@" + doms[r.intn(3)]
		default:
			p.email = first + last + "@" + doms[r.intn(3)]
		}
	}
	return p
}

// company draws a company whose name fits the activity (templates with %s).
func company(r *rnd, m *muniProfile, templates []string) party {
	p := party{}
	p.id = strconv.FormatUint(960_000_000+r.u64()%30_000_000, 10)
	p.dv = nitDV(p.id)
	t := templates[r.intn(len(templates))]
	// never the municipality's name: "Clínica Bucaramanga" would read as a
	// real institution's tax record
	filler := fancy[r.intn(len(fancy))]
	if r.chance(0.4) {
		filler = apellidos[r.intn(len(apellidos))]
	}
	p.name = strings.Replace(t, "%s", filler, 1)
	p.phone = m.phone(r)
	if r.chance(0.85) {
		p.email = []string{"contabilidad", "gerencia", "administracion", "facturacion", "info"}[r.intn(5)] + "@" + slug(p.name) + ".example"
	}
	return p
}

// asciiLower removes accents and lowercases ("Édgar" -> "edgar").
func asciiLower(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if r == 'ñ' || r == 'Ñ' {
			r = 'n'
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// slug makes a host name from a company name.
func slug(s string) string {
	var b strings.Builder
	for _, r := range asciiLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	out := b.String()
	for _, suf := range []string{"sas", "ltda", "sa"} {
		out = strings.TrimSuffix(out, suf)
	}
	if len(out) > 30 {
		out = out[:30]
	}
	return out
}

// upperNoAccents is how older tax systems print names ("RODRIGUEZ GOMEZ").
func upperNoAccents(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return norm.NFC.String(b.String())
}

// dotted writes a number with thousands dots ("1.345.678.901").
func dotted(digits string) string {
	n := len(digits)
	if n <= 3 {
		return digits
	}
	var b strings.Builder
	first := n % 3
	if first == 0 {
		first = 3
	}
	b.WriteString(digits[:first])
	for i := first; i < n; i += 3 {
		b.WriteByte('.')
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}
