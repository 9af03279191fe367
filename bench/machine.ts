/**
 * The machine a benchmark runs on: what it is, whether it is quiet (other
 * processes, and a steady sgemm speed: in a VM a busy neighbour slows the cores
 * without showing in /proc), and this process's peak memory.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

import { getKernels } from '../src/kernels';
import type { Kernels } from '../src/kernels/types';
import { measurePeak } from './floor';
import { log } from './output';

/** The machine, described for the reports. */
export interface MachineInfo {
  description: string;
  cpu: string;
  cores: number;
  simd: string;
  memoryGb: number;
  node: string;
}

/** CPU, cores, SIMD flags, memory, OS, Node and (when given) the kernels in use. */
export function machineInfo(kern?: Kernels): MachineInfo {
  const cpus = os.cpus();
  const cpu = cpus[0]?.model.trim() ?? 'unknown CPU';
  let simd: string;
  try {
    const flags =
      fs
        .readFileSync('/proc/cpuinfo', 'utf8')
        .match(/^flags\s*:(.*)$/m)?.[1]
        .split(/\s+/) ?? [];
    simd = ['avx512f', 'avx512_bf16', 'avx512_vnni', 'avx2', 'fma'].filter((f) => flags.includes(f)).join(' ');
  } catch {
    simd = 'unknown';
  }
  const memoryGb = os.totalmem() / 2 ** 30;
  const kernels = kern ? `, kernels ${kern.name} × ${kern.threads()} threads` : '';
  return {
    description: `${cpu}, ${cpus.length} cores (${simd || 'no AVX'}), ${memoryGb.toFixed(0)} GB, ${os.platform()} ${os.release()}, Node ${process.version}${kernels}`,
    cpu,
    cores: cpus.length,
    simd,
    memoryGb,
    node: process.version,
  };
}

/** CPU use of the whole machine over `ms` (fraction of all cores busy) and the busiest other processes. */
export function machineLoad(ms = 1000): { busy: number; top: string[] } {
  const read = () => {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = line[3] + (line[4] ?? 0);
    const total = line.reduce((a, b) => a + b, 0);
    return { idle, total };
  };
  const procTimes = () => {
    const out = new Map<number, { name: string; ticks: number }>();
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const name = stat.slice(stat.indexOf('(') + 1, close);
        const fields = stat.slice(close + 2).split(' ');
        out.set(Number(d), { name, ticks: Number(fields[11]) + Number(fields[12]) });
      } catch {
        // process ended
      }
    }
    return out;
  };
  try {
    const a = read();
    const pa = procTimes();
    const until = Date.now() + ms;
    while (Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    const b = read();
    const pb = procTimes();
    const busy = 1 - (b.idle - a.idle) / Math.max(1, b.total - a.total);
    const hz = 100;
    const top: string[] = [];
    for (const [pid, p] of pb) {
      const before = pa.get(pid);
      if (!before || pid === process.pid) continue;
      const pct = ((p.ticks - before.ticks) / hz / (ms / 1000)) * 100;
      if (pct >= 5) top.push(`${p.name}(${pid}) ${pct.toFixed(0)}%`);
    }
    return { busy, top };
  } catch {
    return { busy: NaN, top: [] };
  }
}

/** GFLOP/s of short 2048³ sgemm probes taken by quietCheck (the machine's speed as this run sees it). */
const probes: number[] = [];

function probeGflops(): number {
  return measurePeak(getKernels(), 2048, 0.6);
}

/**
 * Quiet = less than 10% of one core busy by other processes, and a short sgemm
 * probe within 15% of the fastest probe of this run: in a VM, a busy neighbour
 * on the host slows the cores without showing in /proc.
 */
export function quietCheck(label: string): boolean {
  const { busy, top } = machineLoad();
  const cores = os.cpus().length;
  const coresBusy = busy * cores;
  const idle = coresBusy < 0.1;
  const probe = probeGflops();
  probes.push(probe);
  const best = Math.max(...probes);
  const steady = probe >= 0.85 * best;
  const quiet = idle && steady;
  const text = Number.isNaN(busy) ? 'unknown' : `${coresBusy.toFixed(2)} of ${cores} cores busy`;
  log(
    `machine load ${label}: ${text}${top.length ? ` (${top.join(', ')})` : ''}, sgemm probe ${probe.toFixed(0)} GFLOP/s` +
      `${quiet ? ' — quiet' : idle ? ` — NOT steady (probe ${((100 * probe) / best).toFixed(0)}% of this run's best): timings are void` : ' — NOT quiet: timings are void'}`,
  );
  return quiet;
}

/** One line on how steady the machine's speed was over this run's probes, and whether that voids the run. */
export function stabilityNote(): { line: string; steady: boolean } {
  if (probes.length === 0) return { line: 'no speed probes taken', steady: true };
  const lo = Math.min(...probes);
  const hi = Math.max(...probes);
  const steady = lo >= 0.85 * hi;
  return {
    line:
      `sgemm probes over the run: ${lo.toFixed(0)}–${hi.toFixed(0)} GFLOP/s (${probes.length} probes)` +
      (steady ? '' : " — the machine's speed varied by more than 15%: timings are void"),
    steady,
  };
}

/** Peak resident set size of this process in MB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}
