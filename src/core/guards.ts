import type { Config } from '../config/schema.ts';
import { type Locale, t } from '../i18n.ts';
import type { Logger } from '../log.ts';
import { StoreError } from '../store/index.ts';
import { type RateLimiterAbstract, RateLimiterRes } from '../util/rate-limiters.ts';
import { CommandSpelling } from './commands/spelling.ts';
import type { CommandInvocation, IncomingMessage } from './types.ts';

export type GuardVerdict = { pass: true } | { pass: false; reason: string; line?: string };

export interface Guard {
  name: string;
  check(message: IncomingMessage, locale: Locale): Promise<GuardVerdict> | GuardVerdict;
}

/** Remembers ids for a while; `claim` is true the first time an id is seen. */
export interface DedupeStore {
  claim(id: string, ttlMs: number): Promise<boolean>;
}

const pass: GuardVerdict = { pass: true };

export const ignoreBots: Guard = {
  name: 'ignore-bots',
  check: (m) => {
    if (m.botUserId && m.author.id === m.botUserId) return { pass: false, reason: 'own message' };
    return m.author.isBot ? { pass: false, reason: 'bot author' } : pass;
  },
};

export const onlyAddressed: Guard = {
  name: 'addressed',
  check: (m) => (m.addressed ? pass : { pass: false, reason: 'not addressed' }),
};

export function dedupe(store: DedupeStore, ttlMs: number): Guard {
  return {
    name: 'dedupe',
    async check(m) {
      const ids = [`${m.conversation.platform}:msg:${m.id}`];
      if (m.eventId) ids.push(`${m.conversation.platform}:evt:${m.eventId}`);
      for (const id of ids) if (!(await store.claim(id, ttlMs))) return { pass: false, reason: 'duplicate' };
      return pass;
    },
  };
}

export function accessLists(cfg: Config['guards']): Guard {
  const allowC = new Set(cfg.allowChannels);
  const allowU = new Set(cfg.allowUsers);
  const denyC = new Set(cfg.denyChannels);
  const denyU = new Set(cfg.denyUsers);
  return {
    name: 'access',
    check(m) {
      const channel = m.conversation.channel;
      if (denyU.has(m.author.id)) return { pass: false, reason: 'user denied' };
      if (denyC.has(channel)) return { pass: false, reason: 'channel denied' };
      if (allowU.size && !allowU.has(m.author.id)) return { pass: false, reason: 'user not allowed' };
      // DMs are governed by the user lists only.
      if (allowC.size && !m.conversation.isDM && !allowC.has(channel))
        return { pass: false, reason: 'channel not allowed' };
      return pass;
    },
  };
}

/** Token bucket per user; the user hears about it once per window, then silence until it refills. */
export function userRateLimit(limiter: RateLimiterAbstract, warned: RateLimiterAbstract): Guard {
  return {
    name: 'rate-limit',
    async check(m, locale) {
      if (m.author.operator) return pass;
      const user = `${m.conversation.platform}:${m.author.id}`;
      try {
        await limiter.consume(user);
        return pass;
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res;
        const seconds = Math.ceil(res.msBeforeNext / 1000);
        const first = await warned.consume(user).then(
          () => true,
          () => false,
        );
        return {
          pass: false,
          reason: 'rate limited',
          line: first ? t(locale, 'guard.rate_limited', { seconds }) : undefined,
        };
      }
    },
  };
}

const INVISIBLE = /[\s\p{Cf}]/gu;

export function messageSize(maxChars: number, spelling = new CommandSpelling()): Guard {
  return {
    name: 'size',
    check(m, locale) {
      // Zero-width and direction marks (Unicode format characters) alone are as empty as spaces.
      if (!m.text.replace(INVISIBLE, '') && m.attachments.length === 0 && !m.quoted) {
        // In a channel in mode all, a message with nothing to answer (a sticker, an embed) is not for us.
        if (m.byChannelMode) return { pass: false, reason: 'empty' };
        const spell = spelling.of(m.conversation.platform);
        return { pass: false, reason: 'empty', line: t(locale, 'guard.empty', {}, spell) };
      }
      if (m.text.length > maxChars) {
        return {
          pass: false,
          reason: 'too long',
          line: t(locale, 'guard.too_long', { chars: m.text.length, max: maxChars }),
        };
      }
      return pass;
    },
  };
}

/** Something that hands out rate limiters and first-seen claims (in-process or shared). */
export interface GuardBackend extends DedupeStore {
  limiter(name: string, points: number, durationSec: number): RateLimiterAbstract;
}

/**
 * The guards every message passes, in order: cheap, silent checks first; the rate limit only counts
 * messages the bot would answer.
 */
export function standardGuards(
  g: Config['guards'],
  backend: GuardBackend,
  spelling = new CommandSpelling(),
): Guard[] {
  return [
    ignoreBots,
    onlyAddressed,
    dedupe(backend, g.dedupeSeconds * 1000),
    accessLists(g),
    messageSize(g.maxMessageChars, spelling),
    userRateLimit(
      backend.limiter('user', g.userMessagesPerWindow, g.userWindowSeconds),
      backend.limiter('user-warned', 1, g.userWindowSeconds),
    ),
  ];
}

/** Guards that meter use; cheap read-only commands skip them (never the access lists). */
export const METERING_GUARDS: ReadonlySet<string> = new Set(['rate-limit', 'quota']);

/**
 * A slash command as the guards see it: an addressed message from its author, whose text is the command
 * as typed. Without a platform id there is nothing to dedupe (`dedupe` is skipped by the caller).
 */
export function commandAsMessage(inv: CommandInvocation, receivedAt: number): IncomingMessage {
  const args = inv.rawArgs ?? Object.values(inv.options ?? {}).join(' ');
  return {
    id: inv.id ?? `command:${inv.name}:${receivedAt}`,
    conversation: inv.conversation,
    author: inv.author,
    text: `/${inv.name}${args ? ` ${args}` : ''}`,
    attachments: [],
    addressed: true,
    receivedAt,
  };
}

/** Runs guards in order, leaving out those named in `skip`; the first refusal wins. */
export async function runGuards(
  guards: Guard[],
  message: IncomingMessage,
  locale: Locale,
  skip?: ReadonlySet<string>,
): Promise<GuardVerdict & { guard?: string }> {
  for (const g of guards) {
    if (skip?.has(g.name)) continue;
    const verdict = await g.check(message, locale);
    if (!verdict.pass) return { ...verdict, guard: g.name };
  }
  return pass;
}

/** The guards' verdict on a message: undefined when it may go on, else why not (and the line to show, if any). */
export async function guardRefusal(
  guards: Guard[],
  message: IncomingMessage,
  locale: Locale,
  log: Logger,
  skip?: ReadonlySet<string>,
): Promise<{ reason: string; line?: string } | undefined> {
  try {
    const verdict = await runGuards(guards, message, locale, skip);
    if (verdict.pass) return undefined;
    log.debug({ guard: verdict.guard, reason: verdict.reason }, 'message not answered');
    return { reason: verdict.reason, ...(verdict.line ? { line: verdict.line } : {}) };
  } catch (err) {
    log.error({ err }, 'guard failed');
    const line = t(locale, err instanceof StoreError ? 'error.store' : 'error.internal');
    return { reason: 'guard error', line };
  }
}
