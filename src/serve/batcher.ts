/**
 * Micro-batching for the HTTP service: requests whose bodies arrive in the
 * same turn of the event loop are answered together (one forward pass and one
 * scoring product per size), so throughput grows with load while a lone
 * request waits for nothing but the current turn.
 */
import type { RecommendRequest, RecommendResponse } from './recommender';

interface Pending {
  request: RecommendRequest;
  resolve: (answer: RecommendResponse) => void;
  reject: (err: unknown) => void;
}

/** Collects the recommend requests of one event-loop turn and answers them as one batch (at most maxBatch at a time), resolving each caller's promise with its own answer. */
export class RequestBatcher {
  private queue: Pending[] = [];
  private scheduled = false;

  /**
   * @param answer   answers a batch of checked requests, in order
   * @param maxBatch most requests answered together
   */
  constructor(
    private readonly answer: (requests: RecommendRequest[]) => RecommendResponse[],
    private readonly maxBatch = 64,
  ) {}

  /** Queue a checked request; resolves with its answer. */
  submit(request: RecommendRequest): Promise<RecommendResponse> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.maxBatch);
    if (this.queue.length > 0) this.schedule();
    let answers: RecommendResponse[];
    try {
      answers = this.answer(batch.map((p) => p.request));
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => p.resolve(answers[i]));
  }
}
