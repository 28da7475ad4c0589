import type { Logger } from '../log.ts';
import type { Turn } from './coordination.ts';
import { storeCall } from './index.ts';
import type { RedisClient } from './redis-connection.ts';
import { TURN_SCRIPTS, type TurnScript } from './redis-turn-scripts.ts';
import { TurnLostError, TurnTimeoutError } from './turn-errors.ts';

export interface TurnLineOptions {
  prefix: string;
  log?: Logger;
  /** A holder that stops renewing for this long is presumed dead and skipped. */
  heartbeatMs: number;
  /** How long a waiter waits for its turn before giving up its place. */
  turnTimeoutMs: number;
  keepMs: number;
}

/** A held turn is given up as lost this far into a heartbeat without a renewal (before Redis drops it). */
const LOST_AT = 0.9;
const RELEASE_RETRY_MS = 200;

/** What a waiter in this process is woken by: a new serving value, or "look again" (reconnect). */
type Wake = (serving?: number) => void;
type WaiterEvent = number | 'look' | 'tick' | 'stop';

/** One waiter's wake-ups, in order, none lost while it is busy looking. */
class WaiterEvents {
  private readonly queued: WaiterEvent[] = [];
  private waiting: ((event: WaiterEvent) => void) | undefined;
  reason: unknown;
  private stopNow: () => void = () => undefined;
  readonly stopped = new Promise<void>((resolve) => {
    this.stopNow = resolve;
  });

  push(event: WaiterEvent): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting(event);
    else this.queued.push(event);
  }

  stop(reason: unknown): void {
    if (this.reason !== undefined) return;
    this.reason = reason ?? new Error('turn wait aborted');
    this.stopNow();
    // Jumps the queue: a deadline is not kept waiting behind wake-ups.
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting('stop');
    else this.queued.unshift('stop');
  }

  next(): Promise<WaiterEvent> {
    const event = this.queued.shift();
    if (event !== undefined) return Promise.resolve(event);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }
}

/**
 * Ticket-ordered conversation turns across instances, without polling: a waiter sleeps until the
 * releaser's PUBLISH of the new serving value says it may be next, and looks again only then, after a
 * reconnect, and once a heartbeat (to skip a holder that died). Commands go through the instance's
 * shared connection; wake-ups need a second one, because a connection in subscriber mode cannot send
 * anything else. The subscriber is opened on the first wait and kept.
 */
export class RedisTurnLine {
  private readonly client: RedisClient;
  private readonly opts: TurnLineOptions;
  private subscriber: Promise<RedisClient> | undefined;
  /** Waiters of this process by wake channel; one subscription per channel with waiters. */
  private readonly waiters = new Map<
    string,
    { wakes: Set<Wake>; listener: (m: string) => void; subscribed: Promise<unknown> }
  >();
  private readonly retries = new Set<NodeJS.Timeout>();

  constructor(client: RedisClient, opts: TurnLineOptions) {
    this.client = client;
    this.opts = opts;
    // A look that failed while the command connection was away is retried as soon as it is back.
    client.on('ready', this.onReconnect);
  }

  private readonly onReconnect = () => this.wakeAll();

  private wakeAll(): void {
    for (const entry of this.waiters.values()) for (const wake of entry.wakes) wake();
  }

  async turn(conversation: string, options: { signal?: AbortSignal } = {}): Promise<Turn> {
    const base = `${this.opts.prefix}:turn:${conversation}`;
    const keys = [`${base}:ticket`, `${base}:serving`, `${base}:hb`, `${base}:line`];
    const channel = `${base}:wake`;
    const { heartbeatMs, keepMs, turnTimeoutMs } = this.opts;
    const run = (script: TurnScript, ticket: number, seen = '') =>
      this.eval(script, keys, [String(ticket), String(heartbeatMs), String(keepMs), channel, seen]);
    let sentAt = Date.now();
    const joined = (await storeCall('take a turn', () => run(TURN_SCRIPTS.join, 0))) as number[];
    const ticket = Number(joined[0]);
    const log = this.opts.log?.child({ conversation, ticket });
    if (joined[2] === 1) return this.hold(run, ticket, sentAt, log);

    const events = new WaiterEvents();
    const deadline = setTimeout(
      () => events.stop(new TurnTimeoutError(conversation, turnTimeoutMs)),
      turnTimeoutMs,
    );
    const abort = () => events.stop(options.signal?.reason);
    options.signal?.addEventListener('abort', abort, { once: true });
    if (options.signal?.aborted) abort();
    let fallback: NodeJS.Timeout | undefined;
    const wake: Wake = (serving) => events.push(serving === undefined ? 'look' : serving);
    try {
      await Promise.race([this.listen(channel, wake).catch(() => undefined), events.stopped]);
      // A release between the join and the subscription was not heard: look once after subscribing.
      let event: WaiterEvent = 'look';
      let lastSeen = Number(joined[1]);
      for (;;) {
        if (event === 'stop') throw events.reason;
        if (typeof event === 'number') lastSeen = Math.max(lastSeen, event);
        // Only the waiter that may be next, a reconnect, or the once-a-heartbeat look send a command.
        if (event === 'look' || event === 'tick' || lastSeen >= ticket - 1) {
          sentAt = Date.now();
          const checked = (await run(
            TURN_SCRIPTS.check,
            ticket,
            event === 'tick' ? String(lastSeen) : '',
          ).catch((err: unknown) => {
            log?.warn({ err }, 'waiting for a turn: Redis did not answer; looking again on the next wake-up');
            return undefined;
          })) as number[] | undefined;
          if (checked?.[0] === 1) return this.hold(run, ticket, sentAt, log);
          if (checked?.[0] === -1)
            throw new TurnLostError(
              `the line of ${conversation} moved past ticket ${ticket} while it waited`,
            );
          if (checked) lastSeen = Number(checked[1]);
        }
        // The fallback: once a heartbeat without news, to skip a holder that died.
        clearTimeout(fallback);
        fallback = setTimeout(() => events.push('tick'), heartbeatMs);
        event = await events.next();
      }
    } catch (err) {
      // The place is given up so the line moves on past it at once (not after a dead-holder timeout).
      void run(TURN_SCRIPTS.leave, ticket).catch((e: unknown) =>
        log?.warn({ err: e }, 'could not give up a place in line; it is skipped after a heartbeat'),
      );
      throw err;
    } finally {
      clearTimeout(deadline);
      clearTimeout(fallback);
      options.signal?.removeEventListener('abort', abort);
      this.unlisten(channel, wake);
    }
  }

  /** The turn is this ticket's: renew its heartbeat, and say so loudly when that stops working. */
  private hold(
    run: (script: TurnScript, ticket: number) => Promise<unknown>,
    ticket: number,
    sentAt: number,
    log: Logger | undefined,
  ): Turn {
    const lost = new AbortController();
    // Redis counts the heartbeat's life from when it got the command, no earlier than it was sent.
    let renewedAt = sentAt;
    let done = false;
    const lose = (why: string) => {
      if (done || lost.signal.aborted) return;
      clearInterval(renewer);
      clearTimeout(lostTimer);
      log?.error({ why }, 'conversation turn lost: another instance may answer now; this answer is stopped');
      lost.abort(new TurnLostError(why));
    };
    const lostAfter = () =>
      setTimeout(
        () => lose(`heartbeat not renewed for ${this.opts.heartbeatMs} ms`),
        renewedAt + this.opts.heartbeatMs * LOST_AT - Date.now(),
      );
    let lostTimer = lostAfter();
    const renewer = setInterval(() => {
      const sent = Date.now();
      run(TURN_SCRIPTS.renew, ticket).then(
        (renewed) => {
          if (renewed !== 1) return lose('another instance moved the line past this turn');
          renewedAt = sent;
          clearTimeout(lostTimer);
          if (!done && !lost.signal.aborted) lostTimer = lostAfter();
        },
        (err: unknown) => {
          if (!done) log?.warn({ err }, 'could not renew the conversation turn heartbeat');
        },
      );
    }, this.opts.heartbeatMs / 3);
    const leave = () => run(TURN_SCRIPTS.leave, ticket);
    return {
      signal: lost.signal,
      release: async () => {
        done = true;
        clearInterval(renewer);
        clearTimeout(lostTimer);
        // Also after a loss: the script hands on only if the turn is still this ticket's.
        await leave().catch(() => this.retryRelease(leave));
      },
    };
  }

  /**
   * A turn released while Redis was unreachable is handed on as soon as it is back. Without this the
   * conversation's next message waited for the dead-holder timeout (a heartbeat) after an outage.
   */
  private retryRelease(release: () => Promise<unknown>): void {
    const deadline = Date.now() + this.opts.heartbeatMs;
    const timer = setInterval(() => {
      if (Date.now() > deadline) return this.stopRetry(timer);
      void release().then(
        () => this.stopRetry(timer),
        () => undefined,
      );
    }, RELEASE_RETRY_MS);
    timer.unref();
    this.retries.add(timer);
  }

  private stopRetry(timer: NodeJS.Timeout): void {
    clearInterval(timer);
    this.retries.delete(timer);
  }

  /** Loads the scripts up front, so the first turns at once do not each miss the script cache. */
  async loadScripts(): Promise<void> {
    await Promise.all(Object.values(TURN_SCRIPTS).map((script) => this.client.scriptLoad(script.source)));
  }

  private async eval(script: TurnScript, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.client.evalSha(script.sha, { keys, arguments: args });
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return this.client.eval(script.source, { keys, arguments: args });
    }
  }

  /** Resolves once the channel's subscription is in place (a waiter looks again after that). */
  private listen(channel: string, wake: Wake): Promise<unknown> {
    const known = this.waiters.get(channel);
    if (known) {
      known.wakes.add(wake);
      return known.subscribed;
    }
    const wakes = new Set([wake]);
    const listener = (message: string) => {
      for (const w of wakes) w(Number(message));
    };
    const subscribed = this.connectSubscriber().then((sub) => sub.subscribe(channel, listener));
    this.waiters.set(channel, { wakes, listener, subscribed });
    return subscribed;
  }

  private unlisten(channel: string, wake: Wake): void {
    const entry = this.waiters.get(channel);
    if (!entry) return;
    entry.wakes.delete(wake);
    if (entry.wakes.size > 0) return;
    this.waiters.delete(channel);
    void this.subscriber?.then((sub) => sub.unsubscribe(channel, entry.listener)).catch(() => undefined);
  }

  private connectSubscriber(): Promise<RedisClient> {
    this.subscriber ??= (async () => {
      const name = (this.client.options as { name?: string } | undefined)?.name ?? 'qwenbot';
      const sub = this.client.duplicate({ name: `${name}:wake` }) as unknown as RedisClient;
      sub.on('error', (err: unknown) => this.opts.log?.warn({ err }, 'redis wake-up connection error'));
      let ready = 0;
      sub.on('ready', () => {
        // A subscription that failed while Redis was away is made now (one already made is not resent).
        for (const [channel, entry] of this.waiters)
          void sub.subscribe(channel, entry.listener).catch(() => undefined);
        // Wake-ups published while it was disconnected are lost: every waiter looks again once it is back.
        if (ready++ > 0) this.wakeAll();
      });
      await sub.connect();
      return sub;
    })();
    // A subscriber that could not connect is tried again by the next waiter.
    this.subscriber.catch(() => {
      this.subscriber = undefined;
    });
    return this.subscriber;
  }

  async close(): Promise<void> {
    this.client.off('ready', this.onReconnect);
    for (const timer of this.retries) clearInterval(timer);
    this.retries.clear();
    const sub = await this.subscriber?.catch(() => undefined);
    this.subscriber = undefined;
    if (sub?.isOpen) sub.destroy();
  }
}
