/**
 * Where a training step spends its time, without touching src/: every kernel
 * call goes through a timing wrapper of the Kernels object, and the layer
 * functions of src/model/layers are wrapped in their CommonJS export objects
 * (the compiled model calls them as `(0, lru_1.lruForward)(...)`, so replacing
 * the export reroutes the call). Times are inclusive per label; exclusive time
 * (a label minus the labels it called) is what the label itself spent: for a
 * kernel, native work; for a layer function, its TypeScript glue (element-wise
 * loops, allocations).
 *
 * Only for benchmark processes: it patches module exports for the whole process.
 */
import type { Kernels } from '../src/kernels/types';

/** Time per kernel and layer call, with the call stack that attributes each kernel to its layer. */
export class Profiler {
  /** label → [inclusive ms, exclusive ms, calls]. */
  readonly stats = new Map<string, { incl: number; excl: number; calls: number }>();
  private stack: { label: string; start: number; child: number }[] = [];
  enabled = false;

  /** Time `fn` under `label` (nested calls are charged to their own labels). */
  time<T>(label: string, fn: () => T): T {
    if (!this.enabled) return fn();
    const frame = { label, start: performance.now(), child: 0 };
    this.stack.push(frame);
    try {
      return fn();
    } finally {
      const dt = performance.now() - frame.start;
      this.stack.pop();
      const parent = this.stack[this.stack.length - 1];
      if (parent) parent.child += dt;
      const s = this.stats.get(label) ?? { incl: 0, excl: 0, calls: 0 };
      // A label that recurses into itself (never here) would double count its inclusive time.
      s.incl += dt;
      s.excl += dt - frame.child;
      s.calls++;
      this.stats.set(label, s);
    }
  }

  /** The label of the innermost running layer function (for naming kernel calls). */
  current(): string {
    return this.stack.length ? this.stack[this.stack.length - 1].label : '';
  }

  reset(): void {
    this.stats.clear();
  }
}

/** Kernels whose every call is timed under "kernel:<name> ← <calling layer>". */
export function profiledKernels(inner: Kernels, prof: Profiler): Kernels {
  const wrap =
    <A extends unknown[], R>(name: string, fn: (...a: A) => R) =>
    (...a: A): R => {
      const caller = prof.current().replace(/^layer:/, '');
      return prof.time(`kernel:${name}${caller ? ` ← ${caller}` : ''}`, () => fn.apply(inner, a));
    };
  return {
    name: inner.name,
    threads: () => inner.threads(),
    setThreads: (n: number) => inner.setThreads(n),
    sgemm: wrap('sgemm', inner.sgemm),
    softmaxXentMulti: wrap('softmaxXentMulti', inner.softmaxXentMulti),
    lruScanForward: wrap('lruScanForward', inner.lruScanForward),
    lruScanBackward: wrap('lruScanBackward', inner.lruScanBackward),
    layerNormForward: wrap('layerNormForward', inner.layerNormForward),
    layerNormBackward: wrap('layerNormBackward', inner.layerNormBackward),
    rankTargets: wrap('rankTargets', inner.rankTargets),
    topItems: wrap('topItems', inner.topItems),
    addRowVector: wrap('addRowVector', inner.addRowVector),
    addColumnSums: wrap('addColumnSums', inner.addColumnSums),
    addSparseRowsProduct: wrap('addSparseRowsProduct', inner.addSparseRowsProduct),
    adamwUpdate: wrap('adamwUpdate', inner.adamwUpdate),
  };
}

/** Modules of src/model whose exported functions are wrapped, with the functions. */
const LAYER_EXPORTS: Record<string, string[]> = {
  '../src/model/layers/item-table': ['itemTableForward', 'itemTableBackward'],
  '../src/model/layers/layer-norm': ['layerNormForward', 'layerNormBackward'],
  '../src/model/layers/lru': ['lruForward', 'lruBackward', 'lruCoefficients'],
  '../src/model/layers/ffn': ['ffnForward', 'ffnBackward'],
  '../src/model/layers/mrl-linear': ['mrlLinearForward', 'mrlLinearBackward'],
  '../src/model/layers/dropout': ['dropoutMask', 'applyMask'],
  '../src/model/sampled-softmax': ['sampledSoftmax'],
};

/**
 * Wrap the layer functions of src/model (once per process). Returns false if
 * the compiled modules do not expose them as plain writable exports.
 */
export function instrumentLayers(prof: Profiler): boolean {
  let ok = true;
  for (const [mod, names] of Object.entries(LAYER_EXPORTS)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exports = require(mod) as Record<string, unknown>;
    for (const name of names) {
      const fn = exports[name];
      const desc = Object.getOwnPropertyDescriptor(exports, name);
      if (typeof fn !== 'function' || !desc || !desc.writable) {
        ok = false;
        continue;
      }
      const layer = `${mod.split('/').pop()}.${name}`;
      exports[name] = function (this: unknown, ...args: unknown[]) {
        return prof.time(`layer:${layer}`, () => (fn as (...a: unknown[]) => unknown).apply(this, args));
      };
    }
  }
  return ok;
}

/** One row of the breakdown: exclusive milliseconds per step. */
export interface BreakdownRow {
  what: string;
  kind: 'kernel' | 'glue';
  msPerStep: number;
  share: number;
  calls: number;
}

/** Group the profiler's exclusive times into readable rows (per step). */
export function breakdown(prof: Profiler, steps: number, stepMs: number): BreakdownRow[] {
  const rows = new Map<string, BreakdownRow>();
  const add = (what: string, kind: BreakdownRow['kind'], ms: number, calls: number) => {
    const r = rows.get(what) ?? { what, kind, msPerStep: 0, share: 0, calls: 0 };
    r.msPerStep += ms / steps;
    r.calls += calls / steps;
    rows.set(what, r);
  };
  for (const [label, s] of prof.stats) {
    if (label.startsWith('kernel:')) {
      add(kernelGroup(label.slice(7)), 'kernel', s.excl, s.calls);
    } else if (label.startsWith('layer:')) {
      add(`glue: ${label.slice(6)}`, 'glue', s.excl, s.calls);
    } else {
      add(label, 'glue', s.excl, s.calls);
    }
  }
  const out = [...rows.values()].sort((a, b) => b.msPerStep - a.msPerStep);
  for (const r of out) r.share = r.msPerStep / stepMs;
  return out;
}

/** Kernel label "sgemm ← lru.lruForward"-like → a layer-level name. */
function kernelGroup(label: string): string {
  const [kernel, caller = ''] = label.split(' ← ');
  if (kernel === 'sgemm') {
    if (caller.startsWith('item-table.itemTableForward')) return 'sgemm: item projection forward (E = F·Pᵀ)';
    if (caller.startsWith('item-table.itemTableBackward')) return 'sgemm: item projection backward (dP = dEᵀ·F)';
    if (caller === 'mrl-linear.mrlLinearForward') return 'sgemm: MRL linears forward';
    if (caller === 'mrl-linear.mrlLinearBackward') return 'sgemm: MRL linears backward';
    if (caller === 'sampled-softmax.sampledSoftmax') return 'sgemm: sampled scoring (fwd+bwd)';
    return `sgemm ← ${caller || '?'}`;
  }
  if (kernel === 'softmaxXentMulti') return 'softmaxXentMulti: multi-size scoring + cross-entropy (fwd+bwd)';
  return kernel;
}

/** Exclusive time per step of the layers, grouped as the issue names them. */
export function layerShares(prof: Profiler, steps: number): Record<string, number> {
  const g: Record<string, number> = {};
  const add = (k: string, ms: number) => {
    g[k] = (g[k] ?? 0) + ms / steps;
  };
  const incl = (label: string) => prof.stats.get(label)?.incl ?? 0;
  add('item projection (fwd+bwd)', incl('layer:item-table.itemTableForward') + incl('layer:item-table.itemTableBackward'));
  add('LRU (fwd+bwd)', incl('layer:lru.lruForward') + incl('layer:lru.lruBackward'));
  add('feed-forward (fwd+bwd)', incl('layer:ffn.ffnForward') + incl('layer:ffn.ffnBackward'));
  add('layer norms (fwd+bwd)', incl('layer:layer-norm.layerNormForward') + incl('layer:layer-norm.layerNormBackward'));
  let xent = 0;
  for (const [label, s] of prof.stats) if (label.startsWith('kernel:softmaxXentMulti')) xent += s.incl;
  add('multi-size scoring + cross-entropy', xent);
  const sampled = incl('layer:sampled-softmax.sampledSoftmax');
  if (sampled > 0) add('sampled scoring + cross-entropy', sampled);
  return g;
}
