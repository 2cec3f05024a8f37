package datasets

import (
	"time"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// Licences.
const (
	ccBy       = "CC BY 4.0"
	ccByURL    = "https://creativecommons.org/licenses/by/4.0/"
	ccBySA     = "CC BY-SA 4.0"
	ccBySAURL  = "https://creativecommons.org/licenses/by-sa/4.0/"
	publisher  = "Observatorio de Transparencia Tributaria Municipal"
	sourceDemo = "Sistemas tributarios municipales (en esta instancia, datos sintéticos de demostración)"
)

var (
	municipalTax = Source{Name: sourceDemo, License: "Información pública clasificada (Estatuto Tributario arts. 583-587): solo se publican agregados y registros anonimizados"}
	divipola     = Source{Name: "DANE, División Político-Administrativa de Colombia (DIVIPOLA)", URL: "https://www.dane.gov.co/", License: ccBySA}
	fut          = Source{Name: "Formulario Único Territorial (FUT) / CUIPO, presupuesto de ingresos", URL: "https://www.chip.gov.co/", License: "Información pública (Ley 1712 de 2014)"}
	gelSource    = Source{Name: "Mediciones de Gobierno en Línea / Gobierno Digital de las entidades", License: "Información pública (Ley 1712 de 2014)"}
	etlLog       = Source{Name: "Registro de ejecuciones del ETL del observatorio", License: ccBy}
)

// Column shorthands.
func dim(name, typ, desc string) Column {
	return Column{Name: name, Type: typ, Description: desc, Role: Dimension, Filter: true}
}
func quasi(name, typ, desc string) Column {
	return Column{Name: name, Type: typ, Description: desc, Role: Quasi, Filter: true}
}
func measure(name, typ, unit, desc string) Column {
	return Column{Name: name, Type: typ, Unit: unit, Description: desc, Role: Measure}
}
func flag(name, desc string) Column {
	return Column{Name: name, Type: "UInt8", Description: desc, Role: Flag, Filter: true}
}
func attr(name, typ, unit, desc string) Column {
	return Column{Name: name, Type: typ, Unit: unit, Description: desc, Role: Attribute}
}

const (
	pesos     = "COP (pesos corrientes)"
	descMuni  = "Código DIVIPOLA del municipio (DANE, 5 dígitos)"
	descName  = "Nombre del municipio según DIVIPOLA"
	descTax   = "Impuesto: predial (impuesto predial unificado), ica (industria y comercio) o reteica (retención de ICA)"
	descVig   = "Vigencia fiscal (año gravable) de la liquidación"
	supressed = "1 si las cifras de la celda se suprimieron por el control de divulgación (quedan vacías), 0 si se publican"
)

var noParams = func(time.Time) []warehouse.Param { return nil }

// Catalog lists the published datasets. Each is declared once: the pages,
// the downloads, datapackage.json, data.json and the CKAN API all come
// from these declarations.
var Catalog = []Dataset{
	{
		ID:            "liquidaciones",
		Title:         "Liquidaciones de impuestos municipales, registro a registro (anonimizadas)",
		TitleEN:       "Municipal tax assessments, record level (anonymized)",
		Description:   "Una fila por liquidación de predial, ICA o ReteICA, con su estado de verificación (recálculo con el núcleo de liquidación del observatorio) y de pago. Sin nombres, cédulas, NIT, direcciones ni números de liquidación: los contribuyentes y los registros llevan seudónimos con clave, y los montos se publican en rangos.",
		DescriptionEN: "One row per property-tax, ICA or ReteICA assessment, with its verification status (recomputed by the observatory's liquidation core) and payment status. No names, ids, addresses or assessment numbers: taxpayers and records carry keyed pseudonyms, and amounts are banded.",
		Tags:          []string{"liquidaciones", "predial", "ica", "reteica", "verificación", "registro a registro"},
		BuildQueries:  []string{"saldos_liquidaciones", "ds_liquidaciones"},
		Table:         "pub_liquidaciones",
		Columns: []Column{
			{Name: "id_registro", Type: "String", Role: Identifier, Pseudonymized: true, Description: "Seudónimo del registro: SHA-256 del número de liquidación junto con el seudónimo HMAC del contribuyente (24 caracteres hexadecimales); estable entre versiones, no permite recuperar el número de liquidación"},
			{Name: "contribuyente", Type: "String", Role: Identifier, Pseudonymized: true, Description: "Seudónimo del contribuyente dentro de la vigencia: agrupa las liquidaciones de un mismo contribuyente en un año, pero cambia de un año a otro para impedir seguirlo en el tiempo"},
			quasi("codigo_municipio", "String", descMuni),
			attr("municipio", "String", "", descName),
			quasi("impuesto", "String", descTax),
			quasi("vigencia", "UInt16", descVig),
			quasi("tipo_contribuyente", "String", "Tipo de contribuyente: natural (persona natural) o juridica (persona jurídica)"),
			{Name: "canal_radicacion", Type: "String", Role: Attribute, Filter: true, Description: "Canal por el que se radicó o emitió la liquidación: web o presencial"},
			quasi("rango_base", "String", "Rango de la base gravable (avalúo catastral en predial, ingresos gravables en ICA y ReteICA), en pesos"),
			attr("rango_facturado", "String", pesos, "Rango del total facturado"),
			{Name: "estado_verificacion", Type: "String", Role: Attribute, Filter: true, Description: "Resultado del recálculo: coincide, redondeo (solo difiere por redondeo), discrepancia, no verificable (falta una regla o un dato) o pendiente"},
			{Name: "estado_pago", Type: "String", Role: Attribute, Filter: true, Description: "pagada, parcial o sin pago, según los pagos registrados hasta la fecha de corte"},
		},
		Key:         []string{"id_registro"},
		License:     ccBy,
		LicenseURL:  ccByURL,
		Sources:     []Source{municipalTax},
		Provenance:  "El ETL del observatorio lee las liquidaciones de cada municipio, reemplaza la cédula o el NIT por un seudónimo HMAC-SHA256 con clave secreta, descarta nombres y direcciones, recalcula cada liquidación con las reglas del Estatuto Tributario municipal y la carga en el almacén (ClickHouse). La publicación toma solo cargas confirmadas hasta la fecha de corte.",
		Frequency:   "diaria (después de cada carga confirmada del ETL)",
		Periodicity: "R/P1D",
		Temporal:    "vigencias 2019 en adelante",
		Policy: Policy{
			Level:       RecordLevel,
			K:           DefaultK,
			Generalized: []string{"base gravable y total facturado en rangos de pesos", "fechas de emisión y vencimiento omitidas (solo la vigencia)"},
			Dropped:     []string{"cédula o NIT", "nombre o razón social", "dirección", "teléfono", "correo electrónico", "número de liquidación", "montos exactos"},
		},
		Params: noParams,
		build:  recordBuild{query: "ds_liquidaciones", distinct: "contribuyente"},
	},
	{
		ID:            "pagos-diarios",
		Title:         "Pagos diarios por municipio, impuesto y canal",
		TitleEN:       "Daily tax payments by municipality, tax and channel",
		Description:   "Número de pagos y monto recaudado por día, municipio, impuesto y canal de pago (web, PSE, tarjeta, banco, presencial). Permite ver cuánto se paga en línea. Las celdas con pocos contribuyentes o dominadas por uno o dos pagadores se publican vacías.",
		DescriptionEN: "Number of payments and amount collected per day, municipality, tax and payment channel (web, PSE, card, bank, in person). Cells with few taxpayers or dominated by one or two payers are left empty.",
		Tags:          []string{"pagos", "recaudo", "canales", "pago en línea", "predial", "ica"},
		BuildQueries:  []string{"ds_pagos_diarios"},
		Table:         "pub_pagos_diarios",
		Columns: []Column{
			dim("fecha", "Date", "Día del pago (fecha de pago registrada por el recaudador)"),
			dim("codigo_municipio", "String", descMuni),
			attr("municipio", "String", "", descName),
			dim("impuesto", "String", descTax),
			dim("canal", "String", "Canal de pago: web, pse, tarjeta, banco o presencial"),
			measure("pagos", "Nullable(UInt32)", "pagos", "Número de pagos (vacío si la celda está suprimida)"),
			measure("recaudo", "Nullable(Decimal(18, 2))", pesos, "Monto pagado (vacío si la celda está suprimida)"),
			flag("suprimido", supressed),
		},
		Key:         []string{"fecha", "codigo_municipio", "impuesto", "canal"},
		License:     ccBy,
		LicenseURL:  ccByURL,
		Sources:     []Source{municipalTax},
		Provenance:  "Pagos registrados por los recaudadores de cada municipio, cargados por el ETL con el contribuyente seudonimizado; agregados por día, municipio, impuesto y canal solo con cargas confirmadas hasta la fecha de corte.",
		Frequency:   "diaria (después de cada carga confirmada del ETL)",
		Periodicity: "R/P1D",
		Temporal:    "2019 en adelante",
		Policy: Policy{Level: Aggregate, K: DefaultK, Dominance: true,
			Secondary: "las celdas diarias se suman en el recaudo mensual (recaudo-mensual) y este en el recaudo anual (presupuesto-vs-recaudo); en cada total publicado o no hay ninguna celda suprimida o hay al menos dos, y un total suprimido tiene al menos una celda suprimida",
			Dropped:   []string{"contribuyentes", "números de pago y de liquidación"}},
		Params: noParams,
		build: aggBuild{parts: []aggPart{
			{query: "ds_pagos_diarios", values: []string{"pagos", "recaudo"}, flag: "suprimido", total: "recaudo", level: levelDay, missingZero: true},
		}},
	},
	{
		ID:            "recaudo-mensual",
		Title:         "Facturado y recaudado por mes, municipio e impuesto",
		TitleEN:       "Monthly amounts billed and collected by municipality and tax",
		Description:   "Por mes, municipio (código DIVIPOLA) e impuesto: lo facturado (liquidaciones emitidas en el mes) y lo recaudado (pagos del mes). Las celdas con menos de 5 contribuyentes distintos o dominadas por uno o dos contribuyentes se publican vacías, con el indicador de supresión en 1.",
		DescriptionEN: "Per month, municipality (DIVIPOLA code) and tax: the amount billed (assessments issued that month) and collected (payments that month). Cells with fewer than 5 distinct taxpayers or dominated by one or two are left empty, with the suppression flag set.",
		Tags:          []string{"recaudo", "facturación", "mensual", "predial", "ica", "reteica"},
		BuildQueries:  []string{"ds_recaudo_mensual_pagos", "ds_recaudo_mensual_facturado"},
		Table:         "pub_recaudo_mensual",
		Columns: []Column{
			dim("mes", "Date", "Primer día del mes"),
			dim("codigo_municipio", "String", descMuni),
			attr("municipio", "String", "", descName),
			dim("impuesto", "String", descTax),
			measure("pagos", "Nullable(UInt32)", "pagos", "Número de pagos del mes (vacío si el recaudo está suprimido)"),
			measure("recaudo", "Nullable(Decimal(18, 2))", pesos, "Monto pagado en el mes (vacío si está suprimido)"),
			flag("recaudo_suprimido", "1 si pagos y recaudo se suprimieron por el control de divulgación"),
			measure("liquidaciones", "Nullable(UInt32)", "liquidaciones", "Número de liquidaciones emitidas en el mes (vacío si lo facturado está suprimido)"),
			measure("facturado", "Nullable(Decimal(18, 2))", pesos, "Total facturado en las liquidaciones emitidas en el mes (vacío si está suprimido)"),
			flag("facturado_suprimido", "1 si liquidaciones y facturado se suprimieron por el control de divulgación"),
		},
		Key:         []string{"mes", "codigo_municipio", "impuesto"},
		License:     ccBy,
		LicenseURL:  ccByURL,
		Sources:     []Source{municipalTax},
		Provenance:  "Liquidaciones y pagos cargados por el ETL con los contribuyentes seudonimizados; agregados por mes de emisión (facturado) y mes de pago (recaudo) con cargas confirmadas hasta la fecha de corte.",
		Frequency:   "diaria (después de cada carga confirmada del ETL)",
		Periodicity: "R/P1D",
		Temporal:    "2019 en adelante",
		Policy: Policy{Level: Aggregate, K: DefaultK, Dominance: true,
			Secondary: "el recaudo mensual es la suma de las celdas diarias (pagos-diarios) y se suma en el recaudo anual (presupuesto-vs-recaudo); en cada total publicado o no hay ninguna celda suprimida o hay al menos dos, y un total suprimido tiene al menos una celda suprimida",
			Dropped:   []string{"contribuyentes", "números de pago y de liquidación"}},
		Query:  "ds_publicado_recaudo_mensual",
		Params: noParams,
		build: aggBuild{parts: []aggPart{
			{query: "ds_recaudo_mensual_pagos", values: []string{"pagos", "recaudo"}, flag: "recaudo_suprimido", total: "recaudo", level: levelMonth, missingZero: true},
			{query: "ds_recaudo_mensual_facturado", values: []string{"liquidaciones", "facturado"}, flag: "facturado_suprimido", total: "facturado", missingZero: true},
		}},
	},
	{
		ID:            "cartera",
		Title:         "Cartera por cobrar por vigencia y edad de la deuda",
		TitleEN:       "Tax arrears by tax year and age of the debt",
		Description:   "Saldo por cobrar (facturado menos pagado) de las liquidaciones vencidas, por municipio, impuesto, vigencia y edad de la deuda a la fecha de corte (hasta 90 días, 91 a 180, 181 a 360, 1 a 3 años, más de 3 años).",
		DescriptionEN: "Outstanding balance (billed minus paid) of overdue assessments, by municipality, tax, tax year and age of the debt at the cut-off date.",
		Tags:          []string{"cartera", "deuda", "morosidad", "predial", "ica"},
		BuildQueries:  []string{"saldos_liquidaciones", "ds_cartera"},
		Table:         "pub_cartera",
		Columns: []Column{
			dim("codigo_municipio", "String", descMuni),
			attr("municipio", "String", "", descName),
			dim("impuesto", "String", descTax),
			dim("vigencia", "UInt16", descVig),
			dim("edad", "String", "Edad de la deuda a la fecha de corte, contada desde el vencimiento"),
			measure("liquidaciones", "Nullable(UInt32)", "liquidaciones", "Liquidaciones con saldo (vacío si la celda está suprimida)"),
			measure("saldo", "Nullable(Decimal(18, 2))", pesos, "Saldo por cobrar, sin intereses ni sanciones (vacío si la celda está suprimida)"),
			flag("suprimido", supressed),
		},
		Key:         []string{"codigo_municipio", "impuesto", "vigencia", "edad"},
		License:     ccBy,
		LicenseURL:  ccByURL,
		Sources:     []Source{municipalTax},
		Provenance:  "Liquidaciones y pagos cargados por el ETL; el saldo de cada liquidación vencida es lo facturado menos lo pagado hasta la fecha de corte.",
		Frequency:   "diaria (después de cada carga confirmada del ETL)",
		Periodicity: "R/P1D",
		Temporal:    "vigencias 2019 en adelante",
		Policy: Policy{Level: Aggregate, K: DefaultK, Dominance: true,
			Dropped: []string{"contribuyentes", "números de liquidación", "saldos individuales"}},
		Params: noParams,
		build: aggBuild{parts: []aggPart{
			{query: "ds_cartera", values: []string{"liquidaciones", "saldo"}, flag: "suprimido", total: "saldo", missingZero: true},
		}},
	},
	{
		ID:            "verificacion",
		Title:         "Verificación de liquidaciones: resultados del recálculo",
		TitleEN:       "Verification of tax assessments: recomputation results",
		Description:   "Cuántas liquidaciones coinciden con lo que dicen las reglas del Estatuto Tributario municipal, cuántas difieren solo por redondeo, cuántas tienen discrepancias y cuántas no se pudieron verificar, por municipio, impuesto y vigencia, con la suma de las diferencias.",
		DescriptionEN: "How many assessments match the municipal tax rules, differ only by rounding, show discrepancies or could not be verified, by municipality, tax and tax year, with the sum of the differences.",
		Tags:          []string{"verificación", "liquidaciones", "estatuto tributario", "discrepancias"},
		BuildQueries:  []string{"ds_verificacion"},
		Table:         "pub_verificacion",
		Columns: []Column{
			dim("codigo_municipio", "String", descMuni),
			attr("municipio", "String", "", descName),
			dim("impuesto", "String", descTax),
			dim("vigencia", "UInt16", descVig),
			dim("estado", "String", "Resultado del recálculo: coincide, redondeo, discrepancia, no verificable o pendiente"),
			measure("liquidaciones", "Nullable(UInt32)", "liquidaciones", "Número de liquidaciones (vacío si la celda está suprimida)"),
			measure("diferencia", "Nullable(Decimal(18, 2))", pesos, "Suma de las diferencias entre lo facturado y lo que dan las reglas (vacío si la celda está suprimida)"),
			flag("suprimido", supressed),
		},
		Key:         []string{"codigo_municipio", "impuesto", "vigencia", "estado"},
		License:     ccBy,
		LicenseURL:  ccByURL,
		Sources:     []Source{municipalTax},
		Provenance:  "El núcleo de liquidación del observatorio recalcula cada liquidación cargada con las reglas vigentes del municipio y clasifica la diferencia; aquí se cuentan los resultados con cargas confirmadas hasta la fecha de corte.",
		Frequency:   "diaria (después de cada carga confirmada del ETL)",
		Periodicity: "R/P1D",
		Temporal:    "vigencias 2019 en adelante",
		Policy: Policy{Level: Aggregate, K: DefaultK, Dominance: true,
			Dropped: []string{"contribuyentes", "números de liquidación", "diferencias individuales"}},
		Params: noParams,
		build: aggBuild{parts: []aggPart{
			{query: "ds_verificacion", values: []string{"liquidaciones", "diferencia"}, flag: "suprimido", total: "magnitud", missingZero: true},
		}},
	},
	{
		ID:            "avance-gel",
		Title:         "Avance de Gobierno en Línea / Gobierno Digital por entidad y fase",
		TitleEN:       "Online government (GEL / Gobierno Digital) progress by entity and phase",
		Description:   "Porcentaje de criterios cumplidos (promedio de los criterios medidos, de 0 a 1) por entidad, marco (GEL 2008, Gobierno Digital 2018...), fase o componente y fecha de medición.",
		DescriptionEN: "Share of criteria met (mean of the criteria measured, 0 to 1) per entity, framework, phase or component and measurement date.",
		Tags:          []string{"gobierno en línea", "gobierno digital", "GEL", "fases", "FURAG"},
		BuildQueries:  []string{"ds_avance_gel"},
		Table:         "pub_avance_gel",
		Columns: []Column{
			dim("codigo_entidad", "String", "Código DIVIPOLA de la entidad territorial"),
			attr("entidad", "String", "", "Nombre de la entidad según DIVIPOLA"),
			dim("marco", "String", "Marco de medición: gel2008 (Decreto 1151 de 2008), gd2018 (Decreto 1008 de 2018)..."),
			dim("fase", "String", "Fase (GEL: información, interacción, transacción, transformación, democracia) o componente"),
			dim("fecha", "Date", "Fecha de la medición"),
			attr("criterios", "UInt32", "criterios", "Número de criterios medidos"),
			attr("avance", "Decimal(9, 4)", "proporción (0 a 1)", "Promedio del cumplimiento de los criterios"),
			attr("sintetico", "UInt8", "", "1 si alguna medición es sintética (datos de demostración)"),
		},
		Key:         []string{"codigo_entidad", "marco", "fase", "fecha"},
		License:     ccBy,
		LicenseURL:  ccByURL,
		Sources:     []Source{gelSource},
		Provenance:  "Mediciones de los criterios de cada fase cargadas por el ETL con su evidencia; se promedian por entidad, marco, fase y fecha.",
		Frequency:   "irregular (con cada medición)",
		Periodicity: "irregular",
		Temporal:    "2008 en adelante",
		Policy:      Policy{Level: Public},
		Params:      noParams,
		build:       sqlBuild{query: "ds_avance_gel"},
	},
	{
		ID:            "presupuesto-vs-recaudo",
		Title:         "Presupuesto (FUT) frente a recaudo de predial e ICA por entidad y año",
		TitleEN:       "Budgeted (FUT) versus collected property tax and ICA by entity and year",
		Description:   "Presupuesto definitivo de ingresos reportado en el FUT/CUIPO para el impuesto predial y el de industria y comercio, junto al recaudo registrado por el observatorio (ICA incluye ReteICA), por entidad y año.",
		DescriptionEN: "Final revenue budget reported in FUT/CUIPO for property tax and ICA, next to the collections recorded by the observatory (ICA includes ReteICA withholdings), per entity and year.",
		Tags:          []string{"presupuesto", "FUT", "CUIPO", "recaudo", "predial", "ica"},
		BuildQueries:  []string{"ds_presupuesto_fut", "ds_recaudo_anual"},
		Table:         "pub_presupuesto_recaudo",
		Columns: []Column{
			dim("codigo_entidad", "String", "Código DIVIPOLA de la entidad"),
			attr("entidad", "String", "", "Nombre de la entidad según DIVIPOLA"),
			dim("anio", "UInt16", "Año (vigencia del presupuesto; año de pago del recaudo)"),
			dim("impuesto", "String", "predial o ica (industria y comercio, con ReteICA)"),
			attr("presupuesto_definitivo", "Nullable(Decimal(18, 2))", pesos, "Presupuesto definitivo de ingresos del rubro en el FUT/CUIPO (vacío si la entidad no lo reportó)"),
			measure("recaudo", "Nullable(Decimal(18, 2))", pesos, "Recaudo registrado por el observatorio en el año (vacío si está suprimido o no hay datos de pagos)"),
			flag("recaudo_suprimido", "1 si el recaudo se suprimió por el control de divulgación"),
		},
		Key:         []string{"codigo_entidad", "anio", "impuesto"},
		License:     ccBy,
		LicenseURL:  ccByURL,
		Sources:     []Source{fut, municipalTax},
		Provenance:  "Rubros de predial e industria y comercio del presupuesto de ingresos del FUT/CUIPO cargados por el ETL (en pesos nominales); recaudo sumado por año de pago a partir de los pagos cargados, con cargas confirmadas hasta la fecha de corte.",
		Frequency:   "diaria (después de cada carga confirmada del ETL)",
		Periodicity: "R/P1D",
		Temporal:    "2012 en adelante (presupuesto); 2019 en adelante (recaudo)",
		Policy: Policy{Level: Aggregate, K: DefaultK, Dominance: true,
			Secondary: "el recaudo anual es la suma del recaudo mensual publicado (recaudo-mensual); en cada total publicado o no hay ninguna celda suprimida o hay al menos dos, y un total suprimido tiene al menos una celda suprimida",
			Dropped:   []string{"contribuyentes"}},
		Params: noParams,
		build: aggBuild{parts: []aggPart{
			{query: "ds_presupuesto_fut", values: []string{"presupuesto_definitivo"}},
			{query: "ds_recaudo_anual", values: []string{"recaudo"}, flag: "recaudo_suprimido", total: "recaudo", level: levelYear},
		}},
	},
	{
		ID:            "ejecuciones-etl",
		Title:         "Ejecuciones del ETL del observatorio",
		TitleEN:       "Observatory ETL runs",
		Description:   "Cada ejecución de los procesos de carga: cuándo empezó y terminó, si se confirmó o falló, y cuántas filas leyó, cargó, puso en cuarentena u omitió. Sirve para saber qué tan frescos son los demás conjuntos.",
		DescriptionEN: "Every run of the loading jobs: when it started and finished, whether it committed or failed, and how many rows it read, loaded, quarantined or skipped.",
		Tags:          []string{"ETL", "procedencia", "calidad de datos", "cargas"},
		BuildQueries:  []string{"ds_ejecuciones_etl"},
		Table:         "pub_ejecuciones_etl",
		Columns: []Column{
			attr("id_ejecucion", "String", "", "Identificador de la ejecución (fecha y hora UTC más un sufijo aleatorio)"),
			dim("proceso", "String", "Proceso (job) del ETL"),
			attr("inicio", "DateTime", "UTC", "Inicio de la ejecución (UTC)"),
			attr("fin", "DateTime", "UTC", "Fin de la ejecución (UTC)"),
			dim("estado", "String", "confirmada, fallida o en curso"),
			attr("filas_leidas", "UInt64", "filas", "Filas leídas de las fuentes"),
			attr("filas_cargadas", "UInt64", "filas", "Filas cargadas en el almacén"),
			attr("filas_cuarentena", "UInt64", "filas", "Filas rechazadas y puestas en cuarentena"),
			attr("filas_omitidas", "UInt64", "filas", "Filas omitidas"),
			attr("filas_sin_cambio", "UInt64", "filas", "Filas que ya estaban cargadas sin cambios"),
		},
		Key:         []string{"proceso", "id_ejecucion"},
		License:     ccBy,
		LicenseURL:  ccByURL,
		Sources:     []Source{etlLog},
		Provenance:  "Registro que el ETL escribe al empezar y al terminar cada ejecución. El texto de los errores no se publica (puede citar filas de las fuentes).",
		Frequency:   "diaria (después de cada carga confirmada del ETL)",
		Periodicity: "R/P1D",
		Policy:      Policy{Level: Public, Dropped: []string{"texto de los errores"}},
		Params:      noParams,
		build:       sqlBuild{query: "ds_ejecuciones_etl"},
	},
	{
		ID:            "entidades",
		Title:         "Municipios y departamentos de Colombia (DIVIPOLA)",
		TitleEN:       "Colombian municipalities and departments (DIVIPOLA)",
		Description:   "La División Político-Administrativa del DANE tal como la usa el observatorio: municipios, áreas no municipalizadas y departamentos, con su código. Es la tabla para unir los demás conjuntos por código de municipio.",
		DescriptionEN: "DANE's political-administrative division as the observatory uses it: municipalities, non-municipalized areas and departments, with their codes.",
		Tags:          []string{"DIVIPOLA", "municipios", "departamentos", "códigos DANE", "referencia"},
		BuildQueries:  []string{"ds_entidades"},
		Table:         "pub_entidades",
		Columns: []Column{
			attr("codigo", "String", "", "Código DIVIPOLA: 5 dígitos para municipios y áreas, 2 para departamentos"),
			dim("codigo_departamento", "String", "Código DIVIPOLA del departamento (2 dígitos)"),
			attr("departamento", "String", "", "Nombre del departamento"),
			attr("nombre", "String", "", "Nombre de la entidad"),
			dim("tipo", "String", "Municipio, Isla, Área no municipalizada o Departamento"),
		},
		Key:         []string{"codigo"},
		License:     ccBySA,
		LicenseURL:  ccBySAURL,
		Sources:     []Source{divipola},
		Provenance:  "Lista DIVIPOLA del DANE (republicada en GitHub bajo CC BY-SA 4.0) incluida en el observatorio y cargada en el almacén al crearlo.",
		Frequency:   "irregular (cuando el DANE actualiza la DIVIPOLA)",
		Periodicity: "irregular",
		Policy:      Policy{Level: Public},
		Params:      noParams,
		build:       sqlBuild{query: "ds_entidades"},
	},
}
