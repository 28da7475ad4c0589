import { describe, expect, it } from 'vitest';
import type { Turn } from '../../src/core/history.ts';
import {
  buildPrompt,
  estimateTokens,
  type MarkedTurn,
  renderSystemPrompt,
  TokenCalibrator,
} from '../../src/core/prompt.ts';

const turn = (role: 'user' | 'assistant', text: string, author?: string): Turn => ({
  role,
  text,
  at: 0,
  ...(author ? { author } : {}),
});

describe('prompt building', () => {
  it('estimates about one token per CJK character and per four other characters', () => {
    expect(estimateTokens('a'.repeat(400))).toBe(104);
    expect(estimateTokens('你好世界')).toBe(8);
  });

  it('keeps the newest turns that fit and always the current one', () => {
    const turns = Array.from({ length: 20 }, (_, i) =>
      turn(i % 2 ? 'assistant' : 'user', `turn ${i} ${'x'.repeat(396)}`, 'Al'),
    );
    const built = buildPrompt({ systemPrompt: 'SYS', turns, budgetTokens: 600, withNames: false });
    expect(built.messages[0]).toEqual({ role: 'system', content: 'SYS' });
    const kept = built.messages.slice(1).map((m) => String(m.content).slice(0, 8));
    expect(kept.at(-1)).toBe('turn 19 ');
    expect(kept.length).toBeLessThan(20);
    expect(built.droppedTurns).toBe(20 - kept.length);
    // Never starts with an assistant turn.
    expect(built.messages[1]?.role).toBe('user');
  });

  it('shortens a current message that alone exceeds the budget, keeping its start and end', () => {
    const big = `START ${'y'.repeat(20_000)} END`;
    const built = buildPrompt({
      systemPrompt: '',
      turns: [turn('user', big)],
      budgetTokens: 500,
      withNames: false,
    });
    const content = String(built.messages[0]?.content);
    expect(content.startsWith('START')).toBe(true);
    expect(content.endsWith('END')).toBe(true);
    expect(content).toContain('characters left out');
    expect(estimateTokens(content)).toBeLessThan(1000);
  });

  it('prefixes speakers in channels, attaches images to the current turn, marks stopped answers', () => {
    const turns: Turn[] = [
      turn('user', 'hi', 'Alice'),
      { ...turn('assistant', 'partial'), status: 'stopped' },
      turn('user', 'look', 'Bob'),
    ];
    const built = buildPrompt({
      systemPrompt: '',
      turns,
      budgetTokens: 10_000,
      withNames: true,
      currentImages: ['data:image/png;base64,AAAA'],
    });
    expect(built.messages[0]).toEqual({ role: 'user', content: 'Alice: hi' });
    expect(built.messages[1]).toEqual({ role: 'assistant', content: 'partial\n[stopped by the user]' });
    expect(built.messages[2]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'Bob: look' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
      ],
    });
  });

  it('calibration shrinks what fits when the model counts more tokens than we estimate', () => {
    const turns = Array.from({ length: 10 }, (_, i) => turn('user', `q${i} ${'z'.repeat(400)}`));
    const plain = buildPrompt({ systemPrompt: '', turns, budgetTokens: 800, withNames: false });
    const cal = new TokenCalibrator();
    cal.observe('m', 100, 200);
    const calibrated = buildPrompt({
      systemPrompt: '',
      turns,
      budgetTokens: 800,
      withNames: false,
      ratio: cal.ratio('m'),
    });
    expect(cal.ratio('m')).toBe(2);
    expect(calibrated.messages.length).toBeLessThan(plain.messages.length);
  });

  it('leaves out a moderation-refused exchange (the marked answer and the question it answered)', () => {
    const refusedInput: MarkedTurn = { ...turn('assistant', ''), status: 'error', refused: 'input' };
    const refusedOutput: MarkedTurn = { ...turn('assistant', 'partial'), status: 'error', refused: 'output' };
    const turns = [
      turn('user', 'hello', 'Al'),
      turn('assistant', 'hi'),
      turn('user', 'flagged words', 'Al'),
      refusedInput,
      turn('user', 'provoking question', 'Bo'),
      refusedOutput,
      turn('user', 'clean question', 'Bo'),
    ];
    const built = buildPrompt({ systemPrompt: '', turns, budgetTokens: 10_000, withNames: true });
    expect(built.messages.map((m) => m.content)).toEqual(['Al: hello', 'hi', 'Bo: clean question']);
    expect(built.droppedTurns).toBe(4);
  });

  it('fills the system prompt placeholders', () => {
    const text = renderSystemPrompt('{botName} on {platform}, {date} {time}, {unknown}', {
      botName: 'Qwen',
      platform: 'slack',
      now: new Date('2026-11-22T09:05:00Z'),
    });
    expect(text).toBe('Qwen on slack, 2026-11-22 09:05, {unknown}');
  });
});
