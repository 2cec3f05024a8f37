// Third-party validation of the observatory's published metadata, run by
// the Go tests of package datasets (see validators_test.go):
//
//   node validate.js datapackage DIR... each DIR/datapackage.json and its CSV
//                                      resources, with the Frictionless
//                                      libraries (datapackage, tableschema):
//                                      descriptor valid against the Tabular
//                                      Data Package profile, every row cast to
//                                      its Table Schema types, primary key
//                                      unique, header equal to the schema.
//   node validate.js pod FILE SCHEMAS  FILE (data.json) against the Project
//                                      Open Data v1.1 JSON Schema in SCHEMAS.
//
// Prints one JSON object: {"ok": true, ...} or {"ok": false, "errors": [...]}
// (for datapackage, one such object per folder under "packages").
'use strict'
const fs = require('fs')
const path = require('path')

function done(result) {
  process.stdout.write(JSON.stringify(result) + '\n')
  process.exit(result.ok ? 0 : 1)
}

async function datapackage(dir) {
  try {
    return await checkPackage(dir)
  } catch (e) {
    return { dir, ok: false, errors: [String(e && e.stack || e)] }
  }
}

async function checkPackage(dir) {
  const { Package } = require('datapackage')
  const { Table } = require('tableschema')
  const errors = []
  const pkg = await Package.load(path.join(dir, 'datapackage.json'), { basePath: dir })
  if (!pkg.valid) {
    for (const e of pkg.errors) errors.push('datapackage.json: ' + e.message)
  }
  const resources = []
  for (const resource of pkg.resources) {
    const d = resource.descriptor
    if (!resource.tabular) {
      resources.push({ name: d.name, tabular: false })
      continue
    }
    if (!resource.valid) {
      for (const e of resource.errors) errors.push(d.name + ': ' + e.message)
      continue
    }
    const dialect = d.dialect || {}
    // The Excel profile starts with a UTF-8 BOM: csv-parse drops it with
    // bom: true (the Frictionless descriptor has no BOM flag).
    const table = await Table.load(path.join(dir, d.path), {
      schema: d.schema,
      delimiter: dialect.delimiter || ',',
      bom: true,
    })
    let rows = []
    try {
      rows = await table.read({ cast: true })
    } catch (e) {
      const inner = (e.errors || []).map((x) => x.message).slice(0, 5)
      errors.push(d.name + ': ' + e.message + (inner.length ? ' (' + inner.join('; ') + ')' : ''))
      continue
    }
    const want = d.schema.fields.map((f) => f.name).join(',')
    if ((table.headers || []).join(',') !== want) {
      errors.push(d.name + ': cabecera ' + (table.headers || []).join(',') + ' ≠ esquema ' + want)
    }
    // The primary key is unique.
    const seen = new Set()
    const idx = (d.schema.primaryKey || []).map((k) => table.headers.indexOf(k))
    for (const r of rows) {
      const key = JSON.stringify(idx.map((i) => String(r[i])))
      if (seen.has(key)) {
        errors.push(d.name + ': clave primaria repetida ' + key)
        break
      }
      seen.add(key)
    }
    // The same resource through the datapackage library's own reader.
    if (dialect.delimiter === ',') {
      try {
        const again = await resource.read({ cast: true })
        if (again.length !== rows.length) errors.push(d.name + ': datapackage leyó ' + again.length + ' filas, tableschema ' + rows.length)
      } catch (e) {
        errors.push(d.name + ' (datapackage.read): ' + e.message)
      }
    }
    resources.push({ name: d.name, tabular: true, rows: rows.length, fields: d.schema.fields.length })
  }
  return { dir, ok: errors.length === 0, errors, resources }
}

async function datapackages(dirs) {
  const packages = []
  for (const dir of dirs) packages.push(await datapackage(dir))
  done({ ok: packages.every((p) => p.ok), packages })
}

function pod(file, schemas) {
  const Ajv = require('ajv-draft-04')
  const addFormats = require('ajv-formats')
  // The schema's patterns are ECMA 262 without the u flag (they escape \: and \/).
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false })
  addFormats(ajv)
  const load = (name) => JSON.parse(fs.readFileSync(path.join(schemas, name), 'utf8'))
  for (const name of ['distribution.json', 'organization.json', 'vcard-non-federal.json']) ajv.addSchema(load(name))
  // The catalog refers to "dataset.json": give it the non-federal dataset
  // schema (see ../pod-v1.1/NOTICE.md).
  const dataset = load('dataset-non-federal.json')
  dataset.id = 'https://project-open-data.cio.gov/v1.1/schema/dataset.json#'
  ajv.addSchema(dataset)
  const validate = ajv.compile(load('catalog.json'))
  const data = JSON.parse(fs.readFileSync(file, 'utf8'))
  const ok = validate(data)
  done({
    ok,
    datasets: (data.dataset || []).length,
    errors: (validate.errors || []).map((e) => e.instancePath + ' ' + e.message + ' ' + JSON.stringify(e.params)),
  })
}

const [cmd, a, b, ...rest] = process.argv.slice(2)
Promise.resolve()
  .then(() => {
    if (cmd === 'datapackage') return datapackages([a, b, ...rest].filter(Boolean))
    if (cmd === 'pod') return pod(a, b)
    done({ ok: false, errors: ['uso: node validate.js datapackage DIR... | pod FILE SCHEMAS'] })
  })
  .catch((e) => done({ ok: false, errors: [String(e && e.stack || e)] }))
