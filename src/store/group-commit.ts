/**
 * Group commit for a store that runs one transaction at a time (the embedded
 * PGlite store): batches of events that arrive while a commit is running wait,
 * and the next commit applies all of them in one transaction
 * ({@link SqlStore.applyEventBatches}), in arrival order. Each caller still
 * gets its own result, only after the commit that holds its batch; a
 * transaction costs about the same for one event as for a few, so under load
 * the store's work per event falls instead of queueing.
 *
 * Isolation: when a merged commit fails, each of its batches is tried again on
 * its own, so one request's failure never fails another's. Batches merge only
 * when they advance states with the same function (the live service passes one).
 */
import type { SqlStore } from './sql-store';
import type { AdvanceStates, ApplyResult, LiveEvent } from './types';

interface Waiting {
  events: readonly LiveEvent[];
  advance: AdvanceStates;
  resolve: (result: ApplyResult) => void;
  reject: (err: unknown) => void;
}

/** Applies batches of events through one store, merging those that wait for a running commit. */
export class GroupCommit {
  private waiting: Waiting[] = [];
  private running = false;

  /**
   * @param store    the store the merged batches are applied to
   * @param maxEvents most events in one merged commit (a batch larger than this commits alone)
   */
  constructor(
    private readonly store: Pick<SqlStore, 'applyEventBatches'>,
    private readonly maxEvents = 2000,
  ) {}

  /** Apply one batch (all or nothing); resolves after the commit that holds it. */
  apply(events: readonly LiveEvent[], advance: AdvanceStates): Promise<ApplyResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ events, advance, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  /** Commit the waiting batches, a group at a time, until none waits. */
  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) await this.commit(this.nextGroup());
    } finally {
      this.running = false;
    }
  }

  /** The longest run of waiting batches with one advance function and at most maxEvents events (at least one batch). */
  private nextGroup(): Waiting[] {
    const first = this.waiting[0];
    let count = 1;
    let events = first.events.length;
    while (count < this.waiting.length) {
      const next = this.waiting[count];
      if (next.advance !== first.advance || events + next.events.length > this.maxEvents) break;
      events += next.events.length;
      count++;
    }
    return this.waiting.splice(0, count);
  }

  private async commit(group: Waiting[]): Promise<void> {
    try {
      const results = await this.store.applyEventBatches(
        group.map((w) => w.events),
        group[0].advance,
      );
      group.forEach((w, i) => w.resolve(results[i]));
    } catch (err) {
      if (group.length === 1) {
        group[0].reject(err);
        return;
      }
      for (const w of group) await this.commit([w]);
    }
  }
}
