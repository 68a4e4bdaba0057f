// extract.mjs writes the price data bundled in an unpacked @pydantic/genai-prices npm
// package as a genai-prices v2 data file (a JSON array of providers).
//
//   node extract.mjs <unpacked package directory> <output data.json>
//
// The data is read through the package's own public API: waitForUpdate() resolves to
// the provider list calcPrice uses, which is the bundled data while no update source is
// set. Two things are changed, both checked:
//   - the JS packaging adds a "type" to each price constraint ("start_date" or
//     "time_of_date"); it is checked against the constraint's fields and removed, so the
//     file has the shape of upstream's v2 data.json;
//   - free-text fields (description, price_comments) are left out: the project keeps
//     facts, not prose.
// The output has one provider header per line and one model per line, so that a price
// change shows as a one-line diff.
import { createRequire } from 'node:module'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

const [dir, out] = process.argv.slice(2)
if (!dir || !out) {
  console.error('usage: node extract.mjs <unpacked package directory> <output data.json>')
  process.exit(2)
}
const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'))
if (pkg.name !== '@pydantic/genai-prices') {
  throw new Error(`${dir} holds ${pkg.name}, not @pydantic/genai-prices`)
}
const require = createRequire(path.resolve(dir, 'package.json'))
const api = require(path.resolve(dir, pkg.main))
if (typeof api.waitForUpdate !== 'function') {
  throw new Error(`@pydantic/genai-prices ${pkg.version} has no waitForUpdate(): the extraction needs updating`)
}
const providers = await api.waitForUpdate()
if (!Array.isArray(providers) || providers.length === 0) {
  throw new Error('waitForUpdate() did not give a list of providers')
}

const prose = new Set(['description', 'price_comments'])

function checkConstraint(c, where) {
  const keys = Object.keys(c).filter((k) => k !== 'type').sort().join(',')
  const want = { start_date: 'start_date', time_of_date: 'end_time,start_time' }
  if (c.type !== undefined && want[c.type] !== keys) {
    throw new Error(`${where}: constraint type ${c.type} does not fit its fields ${keys}`)
  }
  if (keys !== 'start_date' && keys !== 'end_time,start_time') {
    throw new Error(`${where}: unknown constraint with fields ${keys}`)
  }
  const { type, ...rest } = c
  return rest
}

function cleanModel(m, where) {
  const o = {}
  for (const [k, v] of Object.entries(m)) {
    if (prose.has(k)) continue
    if (k === 'prices' && Array.isArray(v)) {
      o.prices = v.map((p, i) =>
        p.constraint === undefined ? p : { ...p, constraint: checkConstraint(p.constraint, `${where}.prices[${i}]`) }
      )
    } else {
      o[k] = v
    }
  }
  return o
}

const lines = ['[']
providers.forEach((p, pi) => {
  if (typeof p.id !== 'string' || !Array.isArray(p.models)) {
    throw new Error(`provider ${pi} has no id or no models`)
  }
  const head = {}
  for (const [k, v] of Object.entries(p)) {
    if (!prose.has(k) && k !== 'models') head[k] = v
  }
  const headJSON = JSON.stringify(head)
  lines.push(headJSON.slice(0, -1) + (Object.keys(head).length ? ',' : '') + '"models":[')
  p.models.forEach((m, mi) => {
    lines.push(JSON.stringify(cleanModel(m, `${p.id}.${m.id}`)) + (mi < p.models.length - 1 ? ',' : ''))
  })
  lines.push(']}' + (pi < providers.length - 1 ? ',' : ''))
})
lines.push(']')
const text = lines.join('\n') + '\n'
JSON.parse(text) // the file must be JSON
writeFileSync(out, text)
const models = providers.reduce((n, p) => n + p.models.length, 0)
console.log(`extract: @pydantic/genai-prices ${pkg.version}: ${providers.length} providers, ${models} models -> ${out}`)
