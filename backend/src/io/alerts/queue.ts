import { ReceiverError, type AlertEvent, type AlertReceiver } from './types.js';

export interface DeliveryStats {
  delivered: number;
  failedAttempts: number;
  rejected: number;
  pending: number;
}

/** Where undelivered events wait: kept there until delivered, so a restart does not lose them. */
export interface Outbox {
  add(receiver: string, events: AlertEvent[]): Promise<number[]>;
  list(receiver: string): Promise<Array<{ id: number; event: AlertEvent }>>;
  remove(ids: number[]): Promise<void>;
  /**
   * Takes or renews this process's lease to deliver `receiver`'s events for `ttlMs`; false while
   * another process holds it. Replicas sharing one outbox thus deliver each event once (at least
   * once: a process that dies between sending and removing leaves the batch to the next holder).
   */
  lease(receiver: string, ttlMs: number): Promise<boolean>;
  release(receiver: string): Promise<void>;
}

/** An outbox in memory (tests, or a service without a registry). */
export class MemoryOutbox implements Outbox {
  private next = 1;
  private readonly items = new Map<string, Array<{ id: number; event: AlertEvent }>>();
  async add(receiver: string, events: AlertEvent[]): Promise<number[]> {
    const list = this.items.get(receiver) ?? [];
    const ids = events.map((event) => {
      const id = this.next++;
      list.push({ id, event });
      return id;
    });
    this.items.set(receiver, list);
    return ids;
  }
  async list(receiver: string): Promise<Array<{ id: number; event: AlertEvent }>> {
    return [...(this.items.get(receiver) ?? [])];
  }
  async remove(ids: number[]): Promise<void> {
    for (const [r, list] of this.items)
      this.items.set(
        r,
        list.filter((i) => !ids.includes(i.id)),
      );
  }
  /** One process owns a memory outbox, so its lease is always its own. */
  async lease(): Promise<boolean> {
    return true;
  }
  async release(): Promise<void> {}
}

/**
 * Delivers alert events to each receiver in order. Events go to the outbox first and leave it only
 * when delivered (or refused as malformed), so neither an outage nor a restart loses them; while a
 * receiver is down, delivery is retried with backoff (1 s doubling to 60 s), sending in one batch
 * what queued up meanwhile. Only the holder of a receiver's lease delivers its events: a process
 * that finds the lease taken leaves them to the holder, and its next resume() takes over once the
 * holder stops renewing it (it died or was partitioned).
 */
export class DeliveryQueue {
  private readonly running = new Map<AlertReceiver, Promise<void>>();
  private stopped = false;
  readonly stats = new Map<string, DeliveryStats>();

  constructor(
    private readonly receivers: AlertReceiver[],
    private readonly observe: (
      receiver: string,
      outcome: 'delivered' | 'failed' | 'rejected',
      error?: Error,
    ) => void = () => undefined,
    private readonly outbox: Outbox = new MemoryOutbox(),
    private readonly delays = { baseMs: 1000, maxMs: 60_000, leaseMs: 60_000 },
  ) {
    for (const r of receivers)
      this.stats.set(r.name, { delivered: 0, failedAttempts: 0, rejected: 0, pending: 0 });
  }

  get hasReceivers(): boolean {
    return this.receivers.length > 0;
  }

  get receiverNames(): string[] {
    return this.receivers.map((r) => r.name);
  }

  /** Stores the events for every receiver (or only those named in `only`), then starts delivering. */
  async enqueue(events: AlertEvent[], only?: readonly string[]): Promise<void> {
    if (events.length === 0) return;
    for (const r of this.receivers) if (!only || only.includes(r.name)) await this.outbox.add(r.name, events);
    this.resume();
  }

  /** Starts delivering whatever waits in the outbox (at start: what a previous process left). */
  resume(): void {
    for (const r of this.receivers) {
      if (this.running.has(r)) continue;
      const run = this.drain(r).finally(() => this.running.delete(r));
      this.running.set(r, run);
    }
  }

  /** Stops delivering (shutdown); what is undelivered stays in the outbox for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running.values());
  }

  /** Resolves when everything queued so far was delivered or rejected. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  private async drain(r: AlertReceiver): Promise<void> {
    while (!this.stopped && (await this.outbox.list(r.name)).length > 0) {
      // Held by another process: it delivers these too (it looks again before it lets go), and if
      // it dies, a sweep's resume() here takes over once its lease has run out.
      if (!(await this.outbox.lease(r.name, this.delays.leaseMs))) return;
      try {
        await this.deliver(r);
      } finally {
        await this.outbox.release(r.name).catch(() => undefined);
      }
      // Loop: an event another process queued between our last look and the release found the
      // lease taken and was left to us.
    }
  }

  private async deliver(r: AlertReceiver): Promise<void> {
    const stats = this.stats.get(r.name)!;
    for (let attempt = 1; !this.stopped;) {
      const batch = await this.outbox.list(r.name);
      stats.pending = batch.length;
      if (batch.length === 0) return;
      // Renewed before every send, so a send never outlives the lease it started under by more
      // than one receiver timeout; lost (expired during a long backoff and taken): stop.
      if (!(await this.outbox.lease(r.name, this.delays.leaseMs))) return;
      try {
        await r.send(batch.map((b) => b.event));
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
          await this.sleep(Math.min(this.delays.maxMs, this.delays.baseMs * 2 ** (attempt - 1)));
          attempt++;
          continue;
        }
      }
      await this.outbox.remove(batch.map((b) => b.id));
    }
  }

  /** Sleeps in short steps, so a shutdown does not wait out a long backoff. */
  private async sleep(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (!this.stopped && Date.now() < until) {
      await new Promise((res) => setTimeout(res, Math.min(100, until - Date.now())));
    }
  }
}
