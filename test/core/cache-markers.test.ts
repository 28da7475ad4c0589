/**
 * Where the prompt builder puts DashScope's `cache_control` markers (models on `cache: explicit`): only on
 * the stable part before the current turn, only where the prefix reaches 1,024 tokens, at most 4, and
 * so that turn N+1 re-reads the prefix turn N wrote.
 */
import { describe, expect, it } from 'vitest';
import type { Turn } from '../../src/core/history.ts';
import { buildPrompt, renderSystemPrompt } from '../../src/core/prompt.ts';
import type { ChatMessage } from '../../src/qwen/client.ts';

const turn = (role: 'user' | 'assistant', text: string): Turn => ({ role, text, at: 0, author: 'Al' });

/** A conversation of `exchanges` questions and answers plus the current question. */
function conversation(exchanges: number, answerChars = 1200): Turn[] {
  const turns: Turn[] = [];
  for (let i = 0; i < exchanges; i++) {
    turns.push(turn('user', `question ${i}`), turn('assistant', `answer ${i} ${'a'.repeat(answerChars)}`));
  }
  turns.push(turn('user', `question ${exchanges}`));
  return turns;
}

const build = (turns: Turn[], systemPrompt = 'You are Qwen.', cache = true) =>
  buildPrompt({
    systemPrompt,
    turns,
    budgetTokens: 100_000,
    withNames: true,
    ...(cache ? { cache: { leadTokens: 0 } } : {}),
  });

const marked = (messages: ChatMessage[]) =>
  messages.flatMap((m, i) =>
    Array.isArray(m.content) && m.content.some((p) => 'cache_control' in p) ? [i] : [],
  );
/** What a message says, however its content is spelled (string or text parts). */
const said = (m: ChatMessage | undefined) =>
  typeof m?.content === 'string'
    ? m.content
    : (m?.content as Array<{ text?: string }> | undefined)?.map((p) => p.text ?? '').join('');

describe('explicit context cache markers', () => {
  it('a short conversation carries no marker and keeps plain string content', () => {
    const built = build(conversation(1, 200));
    expect(built.cacheMarkers).toBe(0);
    expect(built.messages.every((m) => typeof m.content === 'string')).toBe(true);
  });

  it('marks the end of the history (not the current turn) once the prefix reaches 1,024 tokens', () => {
    // Each answer is about 300 tokens: the prefix passes 1,024 within four exchanges.
    const built = build(conversation(4));
    const positions = marked(built.messages);
    expect(positions.length).toBeGreaterThan(0);
    expect(positions.at(-1)).toBe(built.messages.length - 2);
    expect(built.messages.at(-1)?.content).toBe('Al: question 4');
    expect(built.messages[positions.at(-1) ?? 0]).toEqual({
      role: 'assistant',
      content: [{ type: 'text', text: `answer 3 ${'a'.repeat(1200)}`, cache_control: { type: 'ephemeral' } }],
    });
    expect(built.cacheMarkers).toBe(positions.length);
  });

  it('turn N+1 marks, unchanged, the same prefix turn N wrote', () => {
    for (let n = 3; n < 30; n++) {
      const now = build(conversation(n));
      const next = build(conversation(n + 1));
      const written = marked(now.messages).at(-1);
      if (written === undefined) continue;
      expect(marked(next.messages)).toContain(written);
      // Everything up to the marker says the same in both requests.
      for (let i = 0; i <= written; i++) expect(said(next.messages[i])).toBe(said(now.messages[i]));
    }
  });

  it('never more than 4 markers, whatever the history', () => {
    for (let n = 0; n < 60; n++) {
      for (const system of ['', 'short', 's'.repeat(6000)]) {
        const built = build(conversation(n, 50 + ((n * 37) % 900)), system);
        expect(marked(built.messages).length).toBeLessThanOrEqual(4);
      }
    }
  });

  it('a long system prompt is marked on its own, from the first turn', () => {
    const built = build([turn('user', 'hi')], 's'.repeat(6000));
    expect(marked(built.messages)).toEqual([0]);
    expect(built.messages.at(-1)?.content).toBe('Al: hi');
  });

  it('tool schemas count toward the prefix (they precede the messages)', () => {
    const turns = [turn('user', 'hi')];
    const system = 's'.repeat(2000); // about 500 tokens: below the minimum alone
    const without = buildPrompt({
      systemPrompt: system,
      turns,
      budgetTokens: 10_000,
      withNames: false,
      cache: { leadTokens: 0 },
    });
    const withTools = buildPrompt({
      systemPrompt: system,
      turns,
      budgetTokens: 10_000,
      withNames: false,
      cache: { leadTokens: 600 },
    });
    expect(without.cacheMarkers).toBe(0);
    expect(marked(withTools.messages)).toEqual([0]);
  });

  describe('when the oldest turns no longer fit, the start stays put for several turns', () => {
    /** 200 exchanges, every turn with its own time and text, as stored. */
    const long: Turn[] = Array.from({ length: 401 }, (_, i) => ({
      ...turn(i % 2 ? 'assistant' : 'user', i % 2 ? `answer ${i} ${'a'.repeat(1200)}` : `question ${i}`),
      at: 1_000 * i,
    }));
    /** Share of turns whose request starts with the prefix the turn before wrote (a cache read). */
    function reuse(prompts: Array<{ messages: ChatMessage[] }>): number {
      let reads = 0;
      for (let n = 1; n < prompts.length; n++) {
        const before = prompts[n - 1]?.messages ?? [];
        const now = prompts[n]?.messages ?? [];
        const written = marked(before).at(-1);
        if (written === undefined) continue;
        if (before.slice(0, written + 1).every((m, i) => said(m) === said(now[i]))) reads++;
      }
      return reads / (prompts.length - 1);
    }
    const cases = {
      // The stored window (history.maxTurns: 100) slides: its oldest turn changes every turn.
      window: (n: number, windowFull: boolean) =>
        buildPrompt({
          systemPrompt: 'You are Qwen.',
          turns: long.slice(2 * n - 99, 2 * n + 1),
          budgetTokens: 100_000,
          withNames: true,
          cache: { leadTokens: 0, windowFull },
        }),
      // The prompt budget keeps only the newest few thousand tokens of a long stored history.
      budget: (n: number, stable: boolean) =>
        buildPrompt({
          systemPrompt: 'You are Qwen.',
          turns: long.slice(0, 2 * n + 1),
          budgetTokens: 6000,
          withNames: true,
          ...(stable ? { cache: { leadTokens: 0 } } : {}),
        }),
    };
    for (const [name, build] of Object.entries(cases)) {
      it(`${name}: most turns re-read the previous prefix, and the prompt still fits`, () => {
        const turnsAt = Array.from({ length: 100 }, (_, k) => 100 + k);
        const stable = turnsAt.map((n) => build(n, true));
        const full = Math.min(...turnsAt.map((n) => build(n, false).messages.length));
        expect(reuse(stable)).toBeGreaterThan(0.6);
        // What a sliding start gives: no turn reads the one before it.
        if (name === 'window') expect(reuse(turnsAt.map((n) => build(n, false)))).toBe(0);
        for (const p of stable) {
          expect(p.messages.at(-1)?.role).toBe('user');
          expect(p.messages[1]?.role).toBe('user');
          // The start leaves out at most 24 turns more than fit (12 exchanges).
          expect(p.messages.length).toBeGreaterThanOrEqual(full - 24);
        }
      });
    }
  });

  it('a model without explicit cache gets no markers', () => {
    const built = build(conversation(20), 's'.repeat(6000), false);
    expect(built.cacheMarkers).toBe(0);
    expect(built.messages.every((m) => typeof m.content === 'string')).toBe(true);
  });

  it('on cache models {time} is the hour, so the system prompt stays the same all hour', () => {
    const at = (iso: string) =>
      renderSystemPrompt('It is {time} UTC.', {
        botName: 'Q',
        platform: 'x',
        now: new Date(iso),
        hourlyTime: true,
      });
    expect(at('2026-12-01T14:05:00Z')).toBe('It is 14:00–15:00 UTC.');
    expect(at('2026-12-01T14:59:00Z')).toBe(at('2026-12-01T14:05:00Z'));
    expect(at('2026-12-01T23:30:00Z')).toBe('It is 23:00–00:00 UTC.');
  });
});
