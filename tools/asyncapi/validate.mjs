// Validates an AsyncAPI document with @asyncapi/parser; prints diagnostics as JSON, exits 1 on any error.
import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';

const path = process.argv[2];
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(path, 'utf8'));
const errors = diagnostics.filter((d) => d.severity === 0);
console.log(JSON.stringify({
  valid: document !== undefined && errors.length === 0,
  channels: document ? document.channels().length : 0,
  messages: document ? document.allMessages().length : 0,
  operations: document ? document.operations().length : 0,
  diagnostics: diagnostics.map((d) => ({ severity: d.severity, code: d.code, message: d.message, path: d.path })),
}, null, 1));
process.exit(document !== undefined && errors.length === 0 ? 0 : 1);
