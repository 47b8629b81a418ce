// Builds src/sanitizer.js into a WebAssembly component for Airlock's `sanitizer`
// world (wit/plugin.wit), with componentize-js (StarlingMonkey, SpiderMonkey in Wasm).
//
// Usage: node build.mjs [OUT]    (default: dist/emails.wasm; `npm run build` does this)
//
// Every WASI feature of the JS engine is disabled, so the component imports nothing
// but `airlock:plugin/types` (shared type definitions): no clocks, no randomness, no
// stdio, no HTTP. That is what Airlock's sanitizer world allows; a component with
// `wasi:http` or `wasi:filesystem` imports would be refused at load. The cost:
// `console.log` prints nothing, `Date.now()` and `Math.random()` are not available
// from the host, and `fetch` does not exist.
//
// package.json pins `@bytecodealliance/preview2-shim` (0.17, the range componentize-js
// itself is built against): componentize-js runs its splicer in Node through that
// shim without declaring it as a dependency, and the newer copies other packages bring
// are not hoisted where it looks.

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { componentize } from '@bytecodealliance/componentize-js';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? resolve(here, 'dist/emails.wasm'));

const { component } = await componentize({
  sourcePath: resolve(here, 'src/sanitizer.js'),
  witPath: resolve(here, '../../wit'),
  worldName: 'sanitizer',
  disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
});

await mkdir(dirname(out), { recursive: true });
await writeFile(out, component);
console.log(`${out} (${component.length} bytes)`);
