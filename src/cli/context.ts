/** What every command shares: output streams, the kernels, report printing. */
import { metricsTable, MetricsReport } from '../eval/report';
import { getKernels } from '../kernels';
import type { Kernels } from '../kernels/types';
import type { JobOptions } from '../run/execute';
import { UserError } from '../util/errors';

export class CliContext {
  private kern: Kernels | null = null;

  constructor(readonly argv: string[]) {}

  /** Print to stdout. */
  out(text: string): void {
    process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }

  /** Print a progress/log line to stderr. */
  log(line: string): void {
    process.stderr.write(line + '\n');
  }

  /** The kernels, with --threads applied. */
  configureKernels(threads: string | undefined): Kernels {
    const kern = getKernels();
    if (threads !== undefined) {
      const n = Number(threads);
      if (!Number.isInteger(n) || n < 1) throw new UserError(`--threads must be a positive integer (got "${threads}")`);
      kern.setThreads(n);
    }
    this.kern = kern;
    return kern;
  }

  jobOptions(progress: boolean): JobOptions {
    return {
      kern: this.kern ?? this.configureKernels(undefined),
      progress,
      log: (line) => this.log(line),
      command: ['fmrlrec', ...this.argv].join(' '),
    };
  }
}

/** Print the test table of a report. */
export function printReport(ctx: CliContext, report: MetricsReport, runDir: string): void {
  ctx.out(`\n${report.dataset} — test, every size (features ${report.features}; best epoch ${report.best_epoch}, ${report.train_seconds.toFixed(0)} s of training)\n`);
  ctx.out(metricsTable(report.test, report.dims));
  ctx.out(`\nWrote ${runDir}/metrics.json and ${runDir}/metrics.md`);
}
