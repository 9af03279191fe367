// Build the browser demo: `npm run build:web -- [--model <exported size folder>] [--out web/dist]`.
// Bundles web/main.ts and the engine it imports as a user of the package would,
// `fmrlrec/engine` (package.json "exports": the compiled dist/src/engine.js,
// which needs no Node module), with esbuild into <out>/app.js; copies the page,
// and the model's files into <out>/model/ when --model is given. Serve <out>
// with any static file server. Compile first (`npx tsc -p .`, or `npm run build`).
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const MODEL_FILES = ['config.json', 'items.json', 'model.safetensors', 'item_table.safetensors', 'manifest.json'];

function fail(message) {
  process.stderr.write(`build:web: ${message}\n`);
  process.exit(1);
}

const { values } = parseArgs({ options: { model: { type: 'string' }, out: { type: 'string', default: path.join(here, 'dist') } } });
const out = path.resolve(values.out);
if (!fs.existsSync(path.join(here, '..', 'dist', 'src', 'engine.js'))) fail('fmrlrec/engine is not compiled (no dist/src/engine.js): run `npx tsc -p .` first');
if (values.model) {
  const missing = MODEL_FILES.filter((f) => !fs.existsSync(path.join(values.model, f)));
  if (missing.length > 0)
    fail(`${values.model} is not an exported size folder (missing ${missing.join(', ')}; for an every-size export pick one, e.g. <dir>/size-64)`);
}
fs.mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: [path.join(here, 'main.ts')],
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2020',
  outfile: path.join(out, 'app.js'),
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
for (const f of ['index.html', 'style.css']) fs.copyFileSync(path.join(here, f), path.join(out, f));
if (values.model) {
  fs.mkdirSync(path.join(out, 'model'), { recursive: true });
  // The count prior's pairs, when the model has a count prior (config.json's countPrior).
  const optional = ['count_prior.safetensors'].filter((f) => fs.existsSync(path.join(values.model, f)));
  for (const f of [...MODEL_FILES, ...optional]) fs.copyFileSync(path.join(values.model, f), path.join(out, 'model', f));
}
process.stdout.write(`built ${out}${values.model ? ` with the model of ${values.model}` : ''}\n`);
