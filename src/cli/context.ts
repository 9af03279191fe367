/** What every command shares: output streams, the kernels, report printing. */
import { betaText } from '../eval/count-prior-fit';
import { metricsTable, MetricsReport } from '../eval/report';
import { getKernels } from '../kernels';
import type { Kernels } from '../kernels/types';
import type { JobOptions } from '../run/execute';
import { UserError } from '../util/errors';
import { CliEnvironment, readEnvironment } from './environment';

/** A command's surroundings: its arguments, the environment (read once), output streams and kernels. */
export class CliContext {
  private kern: Kernels | null = null;

  /**
   * @param argv the command line after "fmrlrec"
   * @param env  the environment's settings (default: read from process.env now)
   */
  constructor(
    readonly argv: string[],
    readonly env: CliEnvironment = readEnvironment(process.env),
  ) {}

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

  /** The options of a library job: kernels, progress, log lines to stderr, and the environment's download settings. */
  jobOptions(progress: boolean): Required<Omit<JobOptions, 'modelsDir'>> & Pick<JobOptions, 'modelsDir'> {
    return {
      kern: this.kern ?? this.configureKernels(undefined),
      progress,
      log: (line) => this.log(line),
      allowDownload: this.env.allowDownload,
      modelsDir: this.env.modelsDir,
    };
  }

  /** The command line as typed, for reports ("fmrlrec train --data ..."). */
  get command(): string {
    return ['fmrlrec', ...this.argv].join(' ');
  }
}

/** Print the test table of a report. */
export function printReport(ctx: CliContext, report: MetricsReport, runDir: string): void {
  ctx.out(
    `\n${report.dataset} — test, every size (features ${report.features}; best epoch ${report.best_epoch}, ${report.train_seconds.toFixed(0)} s of training)\n`,
  );
  if (report.count_prior) ctx.out(`with the count prior: ${report.count_prior.rule}, β per size ${betaText(report.count_prior.beta)}\n`);
  ctx.out(metricsTable(report.test, report.dims));
  if (report.network_test) ctx.out(`\n\nThe network alone:\n${metricsTable(report.network_test, report.dims)}`);
  ctx.out(`\nWrote ${runDir}/metrics.json and ${runDir}/metrics.md`);
}
