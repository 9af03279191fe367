/**
 * Service metrics in the Prometheus text exposition format (version 0.0.4):
 * request counts by route and status, a latency histogram by route, requests
 * in flight, unknown items seen in requests, and the process's CPU time and
 * resident memory (the standard process_* metrics).
 */

/** Upper bounds (seconds) of the latency histogram buckets. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/** The counters and histograms of one service, and their Prometheus text (`info`: the labels of the fmrlrec_model_info gauge). */
export class ServiceMetrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  private unknownItems = 0;
  /** Requests being answered now. */
  inFlight = 0;

  constructor(private readonly info: Record<string, string>) {}

  /** Record one finished request. */
  observe(route: string, status: number, seconds: number): void {
    const key = `${route}\u0000${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    let h = this.latency.get(route);
    if (!h) {
      h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.latency.set(route, h);
    }
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) h.counts[i]++;
    h.sum += seconds;
    h.count++;
  }

  /** Count item references of a request that named no item. */
  addUnknownItems(n: number): void {
    this.unknownItems += n;
  }

  /** The exposition text. */
  render(): string {
    const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    const lines: string[] = [
      '# HELP fmrlrec_model_info The model being served.',
      '# TYPE fmrlrec_model_info gauge',
      `fmrlrec_model_info{${Object.entries(this.info)
        .map(([k, v]) => `${k}="${label(v)}"`)
        .join(',')}} 1`,
      '# HELP fmrlrec_requests_total Requests answered, by route and HTTP status.',
      '# TYPE fmrlrec_requests_total counter',
    ];
    for (const [key, n] of this.requests) {
      const [route, status] = key.split('\u0000');
      lines.push(`fmrlrec_requests_total{route="${label(route)}",status="${status}"} ${n}`);
    }
    lines.push('# HELP fmrlrec_request_duration_seconds Time to answer a request, by route.', '# TYPE fmrlrec_request_duration_seconds histogram');
    for (const [route, h] of this.latency) {
      const r = label(route);
      BUCKETS.forEach((le, i) => lines.push(`fmrlrec_request_duration_seconds_bucket{route="${r}",le="${le}"} ${h.counts[i]}`));
      lines.push(`fmrlrec_request_duration_seconds_bucket{route="${r}",le="+Inf"} ${h.count}`);
      lines.push(`fmrlrec_request_duration_seconds_sum{route="${r}"} ${h.sum}`);
      lines.push(`fmrlrec_request_duration_seconds_count{route="${r}"} ${h.count}`);
    }
    lines.push(
      '# HELP fmrlrec_requests_in_flight Requests being answered.',
      '# TYPE fmrlrec_requests_in_flight gauge',
      `fmrlrec_requests_in_flight ${this.inFlight}`,
      '# HELP fmrlrec_unknown_items_total Item references in requests that named no item.',
      '# TYPE fmrlrec_unknown_items_total counter',
      `fmrlrec_unknown_items_total ${this.unknownItems}`,
    );
    const cpu = process.cpuUsage();
    lines.push(
      '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
      '# TYPE process_cpu_seconds_total counter',
      `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
      '# HELP process_resident_memory_bytes Resident memory size in bytes.',
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${process.memoryUsage.rss()}`,
    );
    return lines.join('\n') + '\n';
  }
}
