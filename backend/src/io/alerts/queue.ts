import { ReceiverError, type AlertEvent, type AlertReceiver } from './types.js';

export interface DeliveryStats {
  delivered: number;
  failedAttempts: number;
  rejected: number;
  pending: number;
}

/**
 * Delivers alert events to each receiver in order, retrying with backoff (1 s doubling to 60 s)
 * while a receiver is down, so an outage delays alerts but does not lose them. Events for one
 * receiver are sent in batches of what queued up meanwhile.
 */
export class DeliveryQueue {
  private readonly queues = new Map<AlertReceiver, AlertEvent[]>();
  private readonly running = new Map<AlertReceiver, Promise<void>>();
  readonly stats = new Map<string, DeliveryStats>();

  constructor(
    private readonly receivers: AlertReceiver[],
    private readonly observe: (
      receiver: string,
      outcome: 'delivered' | 'failed' | 'rejected',
      error?: Error,
    ) => void = () => undefined,
    private readonly delays = { baseMs: 1000, maxMs: 60_000 },
  ) {
    for (const r of receivers)
      this.stats.set(r.name, { delivered: 0, failedAttempts: 0, rejected: 0, pending: 0 });
  }

  get hasReceivers(): boolean {
    return this.receivers.length > 0;
  }

  enqueue(events: AlertEvent[]): void {
    if (events.length === 0) return;
    for (const r of this.receivers) {
      const q = this.queues.get(r) ?? [];
      q.push(...events);
      this.queues.set(r, q);
      this.stats.get(r.name)!.pending = q.length;
      if (!this.running.has(r)) {
        const run = this.drain(r).finally(() => this.running.delete(r));
        this.running.set(r, run);
      }
    }
  }

  /** Resolves when everything queued so far was delivered or rejected. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  private async drain(r: AlertReceiver): Promise<void> {
    const stats = this.stats.get(r.name)!;
    for (let attempt = 1; (this.queues.get(r)?.length ?? 0) > 0;) {
      const batch = [...this.queues.get(r)!];
      try {
        await r.send(batch);
        stats.delivered += batch.length;
        this.observe(r.name, 'delivered');
        attempt = 1;
      } catch (err) {
        if (err instanceof ReceiverError && err.permanent) {
          stats.rejected += batch.length;
          this.observe(r.name, 'rejected', err);
        } else {
          stats.failedAttempts++;
          this.observe(r.name, 'failed', err as Error);
          await new Promise((res) =>
            setTimeout(res, Math.min(this.delays.maxMs, this.delays.baseMs * 2 ** (attempt - 1))),
          );
          attempt++;
          continue;
        }
      }
      this.queues.get(r)!.splice(0, batch.length);
      stats.pending = this.queues.get(r)!.length;
    }
  }
}
