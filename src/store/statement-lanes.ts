import { AsyncLocalStorage } from 'node:async_hooks';

const backgroundLane = new AsyncLocalStorage<boolean>();

/**
 * Runs `work` with the store statements it makes in the background lane: bookkeeping nobody is
 * waiting to see (an answer's history write and usage once it is shown, crash-repair records). On
 * SQLite those statements give way to the ones a new answer needs before its model call.
 */
export function inBackground<T>(work: () => Promise<T>): Promise<T> {
  return backgroundLane.run(true, work);
}

/** Whether the caller runs in `inBackground`. */
export function inBackgroundLane(): boolean {
  return backgroundLane.getStore() === true;
}

export interface StatementLanesOptions {
  /** Statements handed to the database at once; more only queue inside it, in no order of ours. */
  inFlight: number;
  /** A background statement that has waited this long goes next: bookkeeping always moves. */
  promoteAfterMs: number;
  /** Most calls one joined statement serves (a long statement holds the connection from the others). */
  maxJoined: number;
  now?: () => number;
}

/** Runs the calls of one statement together: one result per call, in order. */
export type JoinedStatement<In, Out> = (items: In[]) => Promise<Out[]>;

interface Waiting {
  since: number;
  /** Calls of the same kind may join a waiting statement (see `join`). */
  kind: JoinedStatement<never, unknown>;
  items: unknown[];
  settle: Array<{ resolve: (out: unknown) => void; reject: (err: unknown) => void }>;
}

/**
 * Orders statements for one database connection. SQLite runs one statement at a time per connection,
 * so under load every statement waits for those queued before it.
 *
 * - Lanes: in arrival order, a new answer's few statements before its model call (claim, settings and
 *   history read, the question's write, the prompt's turns) waited behind every finished answer's
 *   bookkeeping: at 100 conversations that was half of each turn (p50 ~100 ms before the model
 *   request). Foreground statements go first; background ones (`inBackground`) fill the gaps, and one
 *   that has waited `promoteAfterMs` goes ahead, so bookkeeping — and a conversation whose next turn
 *   waits for it — is never starved.
 * - Joining (group commit): a call of a kind that can be joined (a batched read, write, delete or
 *   claim) that would wait joins the statement of its kind waiting last in its lane, up to
 *   `maxJoined` calls. With nothing waiting it goes at once, so a quiet bot waits for nothing; under
 *   load 100 conversations' reads become a few statements (measured: half the CPU per turn).
 *
 * Within a lane the order is arrival order: a call only joins the lane's last waiting statement.
 */
export class StatementLanes {
  private readonly opts: Required<StatementLanesOptions>;
  private running = 0;
  private readonly front: Waiting[] = [];
  private readonly back: Waiting[] = [];
  private drained: Array<() => void> = [];

  constructor(opts: StatementLanesOptions) {
    this.opts = { now: () => performance.now(), ...opts };
  }

  /** Starts `statement` when its lane's turn comes; resolves or rejects as it does. */
  run<T>(background: boolean, statement: () => Promise<T>): Promise<T> {
    // A kind of its own, so no other call joins it.
    const alone: JoinedStatement<undefined, T> = async () => [await statement()];
    return this.join(background, alone, undefined);
  }

  /** Runs `item` through `kind`, in one statement with the other calls of that kind waiting with it. */
  join<In, Out>(background: boolean, kind: JoinedStatement<In, Out>, item: In): Promise<Out> {
    return this.enqueue(background, kind as JoinedStatement<never, unknown>, item) as Promise<Out>;
  }

  /** Statements waiting for their turn (both lanes). */
  get waiting(): number {
    return this.front.length + this.back.length;
  }

  /** Resolves once no statement runs or waits (closing the connection must not strand one). */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private enqueue(
    background: boolean,
    kind: JoinedStatement<never, unknown>,
    item: unknown,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const lane = background ? this.back : this.front;
      const last = lane.at(-1);
      if (last?.kind === kind && last.items.length < this.opts.maxJoined) {
        last.items.push(item);
        last.settle.push({ resolve, reject });
        return;
      }
      lane.push({ since: this.opts.now(), kind, items: [item], settle: [{ resolve, reject }] });
      this.pump();
    });
  }

  private start(waiting: Waiting): void {
    this.running++;
    let ran: Promise<unknown[]>;
    try {
      ran = waiting.kind(waiting.items as never[]);
    } catch (err) {
      ran = Promise.reject(err);
    }
    ran
      .then(
        (outs) => {
          waiting.settle.forEach((s, i) => {
            s.resolve(outs[i]);
          });
        },
        (err: unknown) => {
          for (const s of waiting.settle) s.reject(err);
        },
      )
      .finally(() => {
        this.running--;
        this.pump();
      });
  }

  private pump(): void {
    while (this.running < this.opts.inFlight) {
      const next = this.takeNext();
      if (!next) break;
      this.start(next);
    }
    if (this.running === 0 && this.waiting === 0 && this.drained.length) {
      const drained = this.drained;
      this.drained = [];
      for (const resolve of drained) resolve();
    }
  }

  private takeNext(): Waiting | undefined {
    const oldest = this.back[0];
    if (oldest && (this.front.length === 0 || this.opts.now() - oldest.since >= this.opts.promoteAfterMs))
      return this.back.shift();
    return this.front.shift();
  }
}
