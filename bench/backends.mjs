#!/usr/bin/env node
// @ts-check
/**
 * The `backends` bench case on its own, printing its rows as JSON on stdout
 * (progress lines on stderr): `node bench/backends.mjs [--quick] [--src]`.
 * `node bench/run.mjs --case backends` measures the same and adds the rows to
 * the run's JSON and Markdown report; see bench/cases/backends.mjs for what is
 * measured and bench/README.md for the options.
 */
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { run } from './cases/backends.mjs'

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, src: { type: 'boolean', default: false } } })
const rows = await run({ quick: values.quick, src: values.src, log: (line) => process.stderr.write(line + '\n'), filter: {} })
const out = {
  bench: 'backends',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  quick: values.quick,
  source: values.src ? 'src' : 'dist',
  MB: 'decimal (1e6 bytes)',
  rows,
}
process.stdout.write(JSON.stringify(out, null, 2) + '\n')
