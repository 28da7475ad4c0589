/**
 * The transcript heading through the real ReplyStreamer: it sits above the first message only, every
 * part still fits the surface, the surface's other capabilities (typing, spoilers, native tasks) stay,
 * and on a native stream it rides on the first append.
 */
import { describe, expect, it } from 'vitest';
import { withHeading } from '../../src/core/headed-surface.ts';
import { EditPacer } from '../../src/core/pacer.ts';
import { ReplyStreamer } from '../../src/core/streamer.ts';
import type { NativeStreaming } from '../../src/core/types.ts';
import { createLogger } from '../../src/log.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

const log = createLogger({ level: 'silent' });
const HEADING = '> 🎤 hello there';

function stream(surface: ConstructorParameters<typeof ReplyStreamer>[0]) {
  return new ReplyStreamer(surface, {
    pacer: new EditPacer(),
    log,
    placeholder: '…',
    thinkingText: 'Thinking…',
    minEditIntervalMs: 0,
  });
}

describe('withHeading', () => {
  it('heads the first message only, and every part fits the platform', async () => {
    const surface = new RecordingSurface({ maxChars: 200 });
    const streamer = stream(withHeading(surface, HEADING));
    await streamer.start();
    const answer = Array.from({ length: 80 }, (_, i) => `w${i}`).join(' ');
    streamer.onText(answer);
    await streamer.finish();
    const shown = surface.shown();
    expect(shown.length).toBeGreaterThan(1);
    expect(shown[0]?.startsWith(`${HEADING}\n\n`)).toBe(true);
    for (const text of shown.slice(1)) expect(text).not.toContain('🎤');
    for (const text of shown) expect(text.length).toBeLessThanOrEqual(200);
    expect(streamer.text).toBe(answer);
  });

  it('keeps the surface’s other capabilities', () => {
    const surface = new RecordingSurface({}, { typing: true });
    const native: NativeStreaming = {
      maxChars: 1000,
      minAppendIntervalMs: 10,
      tasks: true,
      open: async () => ({ append: async () => undefined, stop: async () => undefined }),
    };
    const spoiler = (text: string) => `||${text}||`;
    const headed = withHeading(Object.assign(surface, { native, spoiler, locale: 'zh' as const }), HEADING);
    expect(headed.showTyping).toBeTypeOf('function');
    expect(headed.spoiler?.('x')).toBe('||x||');
    expect(headed.locale).toBe('zh');
    expect(headed.native?.tasks).toBe(true);
    expect(headed.native?.minAppendIntervalMs).toBe(10);
    expect(headed.native?.maxChars).toBe(1000 - HEADING.length - 2);
  });

  it('on a native stream, the first append starts with the heading', async () => {
    const surface = new RecordingSurface().withNative(500);
    const streamer = stream(withHeading(surface, HEADING));
    await streamer.start();
    streamer.onText('The answer.');
    await streamer.finish();
    expect(surface.shown()).toEqual([`${HEADING}\n\nThe answer.`]);
  });
});
