/**
 * Faults on the Slack side, through real Bolt and the fake Slack: 429s and 5xx on chat.update, a
 * stream cut by the model mid-answer in a thread (native streaming), and a dropped Socket Mode
 * connection. Each case checks what the person sees, the structured log, that the next message is
 * answered without a restart, and that the user's turn is stored.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Rig, startRig } from '../slack/rig.ts';
import { LEVEL, logged, until } from './support.ts';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ mode: 'socket', config: { guards: { userMessagesPerWindow: 1000 } } });
});
afterAll(async () => {
  await rig?.close();
});

const logs = () => rig.logs;
const botTexts = (channel: string, threadTs?: string) =>
  (threadTs ? rig.fake.thread(channel, threadTs) : rig.fake.channel(channel))
    .filter((m) => m.bot)
    .map((m) => m.text);
const words = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i}`).join(' ');

async function userTurns(key: string): Promise<string[]> {
  return (await rig.app.service.history.load(key)).filter((t) => t.role === 'user').map((t) => t.text);
}

async function dm(text: string): Promise<void> {
  await rig.deliver(rig.say({ channel: 'D0ALICE', text }));
}

describe('Slack answers chat.update with errors', () => {
  test('429s on chat.update: waited out (Retry-After), the answer completes, the next one too', async () => {
    const answer = `Rate limited on Slack but complete: ${words(20, 's')}.`;
    rig.sim.script({ text: answer, chunkChars: 10, chunkDelayMs: 30 });
    rig.fake.rateLimitNext('chat.update', 1, 1);
    const mark = rig.logs.lines.length;
    await dm('slack-429-q1');
    expect(botTexts('D0ALICE').at(-1)).toBe(answer);
    expect(rig.fake.count('chat.update', 'ratelimited')).toBe(1);
    expect(logged(logs(), 'slack rate limited', mark)[0]).toMatchObject({ level: LEVEL.warn });
    await dm('slack-429-q2');
    expect(botTexts('D0ALICE').at(-1)).toBe('Echo: slack-429-q2');
    expect(await userTurns(`slack:${rig.fake.team.id}:D0ALICE`)).toEqual(
      expect.arrayContaining(['slack-429-q1', 'slack-429-q2']),
    );
  });

  test('5xx on chat.update beyond the client retries: the final update is retried and lands', async () => {
    const answer = `Slack had a server error: ${words(20, 'x')}.`;
    rig.sim.script({ text: answer, chunkChars: 10, chunkDelayMs: 30 });
    // The web client retries a 5xx three times itself; four in a row outlast one request.
    rig.fake.serverErrorNext('chat.update', 503, 4);
    const mark = rig.logs.lines.length;
    await dm('slack-5xx-q1');
    expect(botTexts('D0ALICE').at(-1)).toBe(answer);
    expect(rig.fake.count('chat.update', 'http_503')).toBe(4);
    expect(logged(logs(), /reply delivery failed/, mark)[0]?.level).toBe(LEVEL.warn);
    await dm('slack-5xx-q2');
    expect(botTexts('D0ALICE').at(-1)).toBe('Echo: slack-5xx-q2');
    expect(await userTurns(`slack:${rig.fake.team.id}:D0ALICE`)).toEqual(
      expect.arrayContaining(['slack-5xx-q1', 'slack-5xx-q2']),
    );
  });
});

describe('the model cuts a streamed answer in a thread', () => {
  test('the partial text stays in the thread with one line; a follow-up there is answered', async () => {
    const text = 'A natively streamed answer that will be cut in the middle.';
    rig.sim.script({ text, chunkChars: 6, cutAfterChunks: 3 });
    const said = rig.say({ channel: 'C0GENERAL', text: `<@${rig.fake.bot.userId}> stream-cut-q1` });
    const mark = rig.logs.lines.length;
    await rig.deliver(said);
    expect(botTexts('C0GENERAL', said.ts)).toEqual([
      `${text.slice(0, 18)}\n\n⚠️ The model service could not be reached. Please try again.`,
    ]);
    expect((logged(logs(), 'answer failed', mark)[0] as { qwen?: unknown })?.qwen).toMatchObject({
      code: 'network',
    });
    await rig.deliver(
      rig.say({ channel: 'C0GENERAL', threadTs: said.ts, text: `<@${rig.fake.bot.userId}> stream-cut-q2` }),
    );
    expect(botTexts('C0GENERAL', said.ts).at(-1)).toBe('Echo: Alice: stream-cut-q2');
    expect(await userTurns(`slack:${rig.fake.team.id}:C0GENERAL:${said.ts}`)).toEqual([
      'stream-cut-q1',
      'stream-cut-q2',
    ]);
  });
});

describe('the Socket Mode connection drops', () => {
  test('the adapter says so, reconnects by itself, and answers again', async () => {
    const mark = rig.logs.lines.length;
    const opens = rig.fake.count('apps.connections.open');
    rig.fake.socket.dropAll();
    await until(() => !rig.slack.ready, 'the adapter to notice the drop');
    // The SDK waits for its ping timeout before asking for a new URL.
    await until(() => rig.slack.ready, 'Socket Mode to reconnect', 15_000, 50);
    expect(rig.fake.count('apps.connections.open')).toBe(opens + 1);
    expect(logged(logs(), 'Socket Mode connection lost; reconnecting', mark)[0]?.level).toBe(LEVEL.warn);
    expect(logged(logs(), 'Socket Mode reconnected', mark)[0]?.level).toBe(LEVEL.info);
    await dm('after-drop');
    expect(botTexts('D0ALICE').at(-1)).toBe('Echo: after-drop');
  }, 20_000);
});
