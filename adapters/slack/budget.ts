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

const WINDOW_MARGIN = 1.1;

/** Budgets per Web API client (one per running adapter), then per method and workspace or channel. */
const budgets = new WeakMap<object, Map<string, SlidingBudget>>();
/** Keys kept per client at most: one per workspace and method, one per channel for posts (oldest go). */
const MAX_BUDGETS = 5000;

/** The budget of one method in one workspace (or channel), shared by every answer there. */
export function slackBudget(client: object, key: string, max: number, windowMs: number): SlidingBudget {
  let mine = budgets.get(client);
  if (!mine) {
    mine = new Map();
    budgets.set(client, mine);
  }
  let budget = mine.get(key);
  if (!budget) {
    if (mine.size >= MAX_BUDGETS) mine.delete(mine.keys().next().value ?? '');
    budget = new SlidingBudget(max, windowMs);
    mine.set(key, budget);
  }
  return budget;
}
