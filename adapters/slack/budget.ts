/**
 * Slack's per-method tiers (platform-facts.md), kept on this side so the bot does not learn them from
 * 429s. Slack counts a sliding window, so this does too: at most `max` calls in any `windowMs`.
 * Per process: several instances on one workspace share Slack's budget without seeing each other's calls.
 */
export class SlidingBudget {
  private readonly max: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly times: number[] = [];
  private waiting: Promise<void> = Promise.resolve();

  constructor(max: number, windowMs: number, now: () => number = Date.now) {
    this.max = max;
    // Slack counts a call when it arrives: a margin, so one that left early but landed late still fits.
    this.windowMs = Math.round(windowMs * WINDOW_MARGIN);
    this.now = now;
  }

  /** Takes a call's place if the window has room now; false when it is spent. */
  tryTake(): boolean {
    const now = this.now();
    while (this.times.length && (this.times[0] as number) <= now - this.windowMs) this.times.shift();
    if (this.times.length >= this.max) return false;
    this.times.push(now);
    return true;
  }

  /** Waits (in arrival order) until the window has room, then takes a place. */
  take(): Promise<void> {
    const turn = this.waiting.then(async () => {
      while (!this.tryTake()) {
        const wait = (this.times[0] as number) + this.windowMs - this.now();
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, wait)));
      }
    });
    this.waiting = turn;
    return turn;
  }
}

/**
 * A tier spent evenly: a burst of `burst` calls, then one call every `windowMs / (max - burst)` (with
 * the margin), so no window of `windowMs` holds more than `max`. A plain sliding window lets `max`
 * calls through at once and then stalls everything for a whole window.
 */
export class PacedBudget {
  private readonly burst: number;
  private readonly perMs: number;
  private readonly now: () => number;
  private tokens: number;
  private last: number;
  private waiting: Promise<void> = Promise.resolve();

  constructor(max: number, windowMs: number, burst: number, now: () => number = Date.now) {
    this.burst = burst;
    this.perMs = (max - burst) / (windowMs * WINDOW_MARGIN);
    this.now = now;
    this.tokens = burst;
    this.last = now();
  }

  /** Waits (in arrival order) for the next call's turn. */
  take(): Promise<void> {
    const turn = this.waiting.then(async () => {
      for (;;) {
        const now = this.now();
        this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs);
        this.last = now;
        if (this.tokens >= 1) {
          this.tokens -= 1;
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.ceil((1 - this.tokens) / this.perMs)));
      }
    });
    this.waiting = turn;
    return turn;
  }
}

const WINDOW_MARGIN = 1.1;

/** Budgets per Web API client (one per running adapter), then per method and workspace or channel. */
const budgets = new WeakMap<object, Map<string, SlidingBudget | PacedBudget>>();
/** Keys kept per client at most: one per workspace and method, one per channel for posts (oldest go). */
const MAX_BUDGETS = 5000;

/** The budget of one method in one workspace (or channel), shared by every answer there. */
export function slackBudget(client: object, key: string, max: number, windowMs: number): SlidingBudget {
  return budgetOf(client, key, () => new SlidingBudget(max, windowMs));
}

/** The same, spent evenly after a burst (see PacedBudget). */
export function pacedSlackBudget(
  client: object,
  key: string,
  tier: { max: number; windowMs: number; burst: number },
): PacedBudget {
  return budgetOf(client, key, () => new PacedBudget(tier.max, tier.windowMs, tier.burst));
}

function budgetOf<T extends SlidingBudget | PacedBudget>(client: object, key: string, make: () => T): T {
  let mine = budgets.get(client);
  if (!mine) {
    mine = new Map();
    budgets.set(client, mine);
  }
  let budget = mine.get(key);
  if (!budget) {
    if (mine.size >= MAX_BUDGETS) mine.delete(mine.keys().next().value ?? '');
    budget = make();
    mine.set(key, budget);
  }
  return budget as T;
}
