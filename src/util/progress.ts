/**
 * A one-line progress bar on stderr (redrawn in place on a TTY, printed every
 * few seconds otherwise), with rate and ETA.
 */
export class ProgressBar {
  private readonly start = Date.now();
  private lastDraw = 0;
  private done = 0;

  /**
   * @param label  what is being counted ("epoch 3", "encoding items")
   * @param total  number of units expected
   * @param unit   unit name for the rate ("items", "pos")
   * @param stream where to draw (default process.stderr); null disables drawing
   */
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit = 'it',
    private readonly stream: NodeJS.WriteStream | null = process.stderr,
  ) {}

  /** Advance by n units; extra text (e.g. "loss 7.12") is shown after the bar. */
  tick(n = 1, extra = ''): void {
    this.done += n;
    const now = Date.now();
    const interval = this.stream?.isTTY ? 100 : 5000;
    if (now - this.lastDraw >= interval || this.done >= this.total) {
      this.lastDraw = now;
      this.draw(extra);
    }
  }

  /** Finish the line (drawn once more unless the last tick already showed completion). */
  finish(extra = ''): void {
    if (this.stream?.isTTY || this.done < this.total) this.draw(extra);
    if (this.stream?.isTTY) this.stream.write('\n');
  }

  private draw(extra: string): void {
    if (!this.stream) return;
    const elapsed = (Date.now() - this.start) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const eta = rate > 0 ? Math.max(0, (this.total - this.done) / rate) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const line =
      `${this.label} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ` +
      `${formatRate(rate)} ${this.unit}/s ETA ${formatDuration(eta)}${extra ? ' ' + extra : ''}`;
    if (this.stream.isTTY) this.stream.write('\r' + line.slice(0, (this.stream.columns ?? 120) - 1).padEnd(Math.min(this.stream.columns ?? 120, 120) - 1));
    else this.stream.write(line + '\n');
  }
}

/** A duration as "42s", "3m05s" or "1h02m". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatRate(r: number): string {
  if (r >= 1e6) return (r / 1e6).toFixed(2) + 'M';
  if (r >= 1e3) return (r / 1e3).toFixed(1) + 'k';
  return r.toFixed(1);
}
