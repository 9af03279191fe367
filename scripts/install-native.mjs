// npm's install step: build the native kernels with node-gyp, unless the addon
// in build/Release is already newer than every native source (as when npx runs
// this checkout's own command after `npm ci`: no second build). A failed build
// is not an error: training then uses the slower TypeScript kernels.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const addon = path.join(root, 'build', 'Release', 'fmrlrec_kernels.node');
const sources = [path.join(root, 'binding.gyp'), ...fs.readdirSync(path.join(root, 'native')).map((f) => path.join(root, 'native', f))];

function upToDate() {
  if (!fs.existsSync(addon)) return false;
  const built = fs.statSync(addon).mtimeMs;
  return sources.every((file) => fs.statSync(file).mtimeMs <= built);
}

if (upToDate()) {
  console.error('fmrlrec: native kernels already built and up to date (build/Release); node-gyp rebuild builds them again');
} else {
  const gyp = spawnSync('node-gyp', ['rebuild'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (gyp.status !== 0) {
    console.error('fmrlrec: the native kernels did not build; training will use the slower TypeScript kernels (serving does not need them)');
  }
}
