/**
 * 👍 / 👎 on finished answers. One vote per person per answer, changeable: a second press replaces the
 * first. Stored under `feedback:v1:`, all of it with the history's retention, so a vote never outlives
 * the conversation it is about:
 * - `feedback:v1:vote:<conversation>:<answer>:<voter>`: the vote (model, reason, when), expiring
 *   `retentionMs` after the first press;
 * - `feedback:v1:voter:<platform>:<voter>`: an index of the person's votes, so `/forget` finds them;
 * - `feedback:v1:share:<platform>:<workspace>:<day>`: counters `<model>|up` / `<model>|down` per day of
 *   first press, what `/usage` adds up over the retained days (a change moves one count; `/forget`
 *   takes the person's counts back out).
 */
import type { Config } from '../config/schema.ts';
import { type Locale, t } from '../i18n.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Coordinator } from '../store/coordination.ts';
import { type Store, storeCall } from '../store/index.ts';
import { KeyedQueue } from '../util/keyed-queue.ts';
import { ConversationTurns } from './turns.ts';
import { type Author, type ConversationRef, conversationKey } from './types.ts';

export type Vote = 'up' | 'down';

export interface VoteRecord {
  conversation: string;
  platform: string;
  workspace: string;
  /** The platform id of the answer's message that carries the buttons. */
  answerId: string;
  model: string;
  vote: Vote;
  voterId: string;
  /** One line, when the person gave one after a 👎. */
  reason?: string;
  /** First press (ms): the day it counts in, and the start of its retention. */
  at: number;
  updatedAt: number;
}

export interface VoteInput {
  conversation: ConversationRef;
  answerId: string;
  model: string;
  voter: Author;
}

export interface VoteOutcome {
  /** The private acknowledgement to show the voter. */
  line: string;
  stored: boolean;
}

/** What adapters call when someone presses 👍 / 👎 or sends the reason form. */
export interface FeedbackPort {
  readonly enabled: boolean;
  /**
   * A 👎 opens the one-line reason form (`feedback.askReason`). Adapters show it as the press's answer
   * (Discord modal, Slack views.open within the trigger's 3 s), then call `vote`; the form's `reason`
   * stores the 👎 again with its reason, so a failed `vote` loses nothing.
   */
  readonly askReason: boolean;
  vote(input: VoteInput & { vote: Vote }, locale: Locale): Promise<VoteOutcome>;
  reason(input: VoteInput & { reason: string }, locale: Locale): Promise<string>;
}

export interface ModelShare {
  model: string;
  up: number;
  down: number;
}

const DAY_MS = 86_400_000;
/** Longest reason kept (one line). */
export const REASON_MAX_CHARS = 300;
/** A press waits this long at most for an earlier press of the same vote (another instance). */
const VOTE_TURN_MS = 10_000;

export class FeedbackService implements FeedbackPort {
  readonly enabled: boolean;
  readonly askReason: boolean;
  private readonly store: Store;
  private readonly coordinator: Coordinator;
  private readonly retentionMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly metrics: Metrics | undefined;
  private readonly turns: ConversationTurns;

  constructor(deps: {
    config: Config;
    store: Store;
    coordinator: Coordinator;
    now: () => number;
    log: Logger;
    metrics?: Metrics | undefined;
  }) {
    this.enabled = deps.config.feedback.enabled;
    this.askReason = deps.config.feedback.askReason;
    this.store = deps.store;
    this.coordinator = deps.coordinator;
    this.retentionMs = deps.config.history.retentionDays * DAY_MS;
    this.now = deps.now;
    this.log = deps.log.child({ component: 'feedback' });
    this.metrics = deps.metrics;
    // Presses of one vote run one at a time, across instances too: a change reads the vote it replaces.
    this.turns = new ConversationTurns(new KeyedQueue(), deps.coordinator, VOTE_TURN_MS);
  }

  static voteKey(conversation: string, answerId: string, voterId: string): string {
    return `feedback:v1:vote:${conversation}:${answerId}:${voterId}`;
  }

  static voterKey(platform: string, voterId: string): string {
    return `feedback:v1:voter:${platform}:${voterId}`;
  }

  static shareKey(platform: string, workspace: string, day: string): string {
    return `feedback:v1:share:${platform}:${workspace}:${day}`;
  }

  async vote(input: VoteInput & { vote: Vote }, locale: Locale): Promise<VoteOutcome> {
    try {
      const changed = await this.save(input, { vote: input.vote });
      if (changed)
        this.metrics?.feedback.inc({
          platform: input.conversation.platform,
          model: input.model,
          vote: input.vote,
        });
      const key = input.vote === 'up' ? 'feedback.thanks_up' : 'feedback.thanks_down';
      return { line: t(locale, key), stored: true };
    } catch (err) {
      this.log.error({ err, answerId: input.answerId }, 'could not store feedback');
      return { line: `⚠️ ${t(locale, 'feedback.failed')}`, stored: false };
    }
  }

  async reason(input: VoteInput & { reason: string }, locale: Locale): Promise<string> {
    const reason = input.reason.replace(/\s+/g, ' ').trim().slice(0, REASON_MAX_CHARS);
    try {
      // The 👎 was stored when pressed; a reason for a vote that is gone (expired, forgotten) counts as one.
      await this.save(input, { vote: 'down', ...(reason ? { reason } : {}) });
      return t(locale, reason ? 'feedback.reason_saved' : 'feedback.thanks_down');
    } catch (err) {
      this.log.error({ err, answerId: input.answerId }, 'could not store the feedback reason');
      return `⚠️ ${t(locale, 'feedback.failed')}`;
    }
  }

  /** The stored vote of one person on one answer (undefined when none, or expired). */
  get(conversation: ConversationRef, answerId: string, voterId: string): Promise<VoteRecord | undefined> {
    const key = FeedbackService.voteKey(conversationKey(conversation), answerId, voterId);
    return storeCall('load feedback', () => this.store.get<VoteRecord>(key));
  }

  /** Votes per model in a workspace over the retained days, most voted first. */
  async shares(platform: string, workspace: string): Promise<ModelShare[]> {
    const days = Math.ceil(this.retentionMs / DAY_MS);
    const counters = await Promise.all(
      Array.from({ length: days }, (_, i) =>
        this.coordinator.read(
          FeedbackService.shareKey(platform, workspace, this.day(this.now() - i * DAY_MS)),
        ),
      ),
    );
    const byModel = new Map<string, ModelShare>();
    for (const counter of counters) {
      for (const [field, count] of Object.entries(counter ?? {})) {
        const cut = field.lastIndexOf('|');
        const model = field.slice(0, cut);
        const vote = field.slice(cut + 1);
        const share = byModel.get(model) ?? { model, up: 0, down: 0 };
        if (vote === 'up') share.up += count;
        else if (vote === 'down') share.down += count;
        byModel.set(model, share);
      }
    }
    return [...byModel.values()]
      .filter((s) => s.up + s.down > 0)
      .sort((a, b) => b.up + b.down - (a.up + a.down) || a.model.localeCompare(b.model));
  }

  /** `/forget`: every vote the person cast, and their counts in the shares. Returns how many. */
  async forget(platform: string, voterId: string): Promise<number> {
    const indexKey = FeedbackService.voterKey(platform, voterId);
    const keys = Object.keys(await this.coordinator.readIndex(indexKey));
    if (keys.length) {
      const records = await storeCall('load feedback', () => this.store.getMany<VoteRecord>(keys));
      for (const record of records) if (record) await this.count(record, -1);
      await storeCall('delete feedback', () => this.store.deleteMany(keys));
    }
    await this.coordinator.dropIndex(indexKey);
    return keys.length;
  }

  /**
   * Writes the vote (new, changed, or with its reason) in the vote's turn; true when the vote itself
   * is new or changed (what the counters and the metric count).
   */
  private save(input: VoteInput, change: { vote: Vote; reason?: string }): Promise<boolean> {
    const { conversation, answerId, model, voter } = input;
    const convKey = conversationKey(conversation);
    const key = FeedbackService.voteKey(convKey, answerId, voter.id);
    const noTurn = (err: Error) => Promise.reject(err);
    return this.turns.run(
      `feedback:${key}`,
      async () => {
        const now = this.now();
        const before = await storeCall('load feedback', () => this.store.get<VoteRecord>(key));
        const record: VoteRecord = {
          conversation: convKey,
          platform: conversation.platform,
          workspace: conversation.workspace,
          answerId,
          model: before?.model ?? model,
          vote: change.vote,
          voterId: voter.id,
          ...(change.reason !== undefined
            ? { reason: change.reason }
            : before?.reason && before.vote === change.vote
              ? { reason: before.reason }
              : {}),
          at: before?.at ?? now,
          updatedAt: now,
        };
        const changed = before?.vote !== record.vote;
        if (!changed && before?.reason === record.reason) return false;
        // A change keeps the first press's expiry: the vote and its day's counter leave together.
        const ttl = Math.max(1000, record.at + this.retentionMs - now);
        await storeCall('save feedback', () => this.store.set(key, record, ttl));
        // Noted once, at the first press: the index then outlives every vote it lists by a day, and
        // a later change (which keeps its vote's expiry) does not make it outlive them further.
        if (!before)
          await this.coordinator.addToIndex(
            FeedbackService.voterKey(conversation.platform, voter.id),
            key,
            this.day(record.at),
            this.retentionMs + DAY_MS,
          );
        if (changed) {
          if (before) await this.count(before, -1);
          await this.count(record, 1);
        }
        return changed;
      },
      noTurn,
    );
  }

  /** A day's counter lives until its last vote has expired, however late it was last changed. */
  private count(record: VoteRecord, delta: number): Promise<void> {
    const day = this.day(record.at);
    const ttl = Math.max(1000, Date.parse(day) + DAY_MS + this.retentionMs - this.now());
    return this.coordinator.add(
      FeedbackService.shareKey(record.platform, record.workspace, day),
      { [`${record.model}|${record.vote}`]: delta },
      ttl,
    );
  }

  private day(ms: number): string {
    return new Date(ms).toISOString().slice(0, 10);
  }
}

/** `/usage` for admins: the share of 👍 per model in the workspace over the retained days. */
export function shareLines(locale: Locale, shares: ModelShare[], retentionDays: number): string[] {
  const days = Math.ceil(retentionDays);
  if (shares.length === 0)
    return [t(locale, 'feedback.usage_header', { days }), t(locale, 'feedback.usage_none')];
  return [
    t(locale, 'feedback.usage_header', { days }),
    ...shares.map((s) =>
      t(locale, 'feedback.usage_line', {
        model: s.model,
        percent: Math.round((100 * s.up) / (s.up + s.down)),
        up: s.up,
        votes: s.up + s.down,
      }),
    ),
  ];
}
