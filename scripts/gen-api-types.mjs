#!/usr/bin/env node
// Regenerates web/src/lib/api-types.ts from the dashboard API's OpenAPI document.
//   npm run gen:api                     # from a running Tollgate at $TOLLGATE_URL (default http://127.0.0.1:8080)
//   npm run gen:api -- openapi.json     # from a saved document
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, 'web/src/lib/api-types.ts');
const source =
  process.argv[2] ?? `${process.env.TOLLGATE_URL ?? 'http://127.0.0.1:8080'}/dashboard/api/openapi.json`;

async function load(from) {
  if (!/^https?:\/\//.test(from)) return JSON.parse(readFileSync(from, 'utf8'));
  const response = await fetch(from);
  if (!response.ok) throw new Error(`${from} answered ${response.status}`);
  return response.json();
}

const document = await load(source);
const ast = await openapiTS(document, { alphabetize: true });
writeFileSync(target, COMMENT_HEADER + astToString(ast));
// The project's formatter owns the layout, so a regeneration shows only real changes in a diff.
spawnSync('npx', ['biome', 'format', '--write', target], { cwd: root, stdio: 'inherit' });
console.log(`wrote ${path.relative(root, target)} from ${source}`);
