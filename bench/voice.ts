/**
 * Voice message overhead: a Discord DM voice message against the same question typed, through the real
 * discord.js client, the fake Discord's CDN and the simulator's speech recognition (unpaced, so the
 * figures are the bot's own cost: download, base64, the ASR round trip, then the answer). Prints the
 * median time from sending to the first reply message and to the finished answer, for a 30-second
 * clip (~120 KB, Opus at 32 kbit/s) and one at the 7 MB limit. `node bench/voice.ts`, or
 * `npm run bench -- --voice`.
 */
import { simVoiceClip } from '../src/sim/sim-asr.ts';
import { startDiscordHarness } from '../test/discord/harness.ts';
import { sayVoice } from '../test/support/fake-discord/voice.ts';

export interface VoiceFigures {
  voice_typed_first_reply_ms: number;
  voice_typed_answer_ms: number;
  voice_30s_first_reply_ms: number;
  voice_30s_answer_ms: number;
  voice_7mb_first_reply_ms: number;
  voice_7mb_answer_ms: number;
}

const RUNS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

export async function benchVoice(): Promise<VoiceFigures> {
  // One person sends every message: the per-user rate limit would refuse most of them.
  const h = await startDiscordHarness({ clock: 'real', config: { guards: { userMessagesPerWindow: 1000 } } });
  try {
    const dm = h.fake.dmChannel(h.alice);
    const run = async (send: () => void) => {
      const before = h.fake.botMessages(dm.id).length;
      const turn = h.expectTurns(1, 60_000);
      const started = performance.now();
      send();
      await h.fake.waitFor(() => h.fake.botMessages(dm.id).length > before, 60_000, 'the first reply');
      const first = performance.now() - started;
      await turn;
      return { first, done: performance.now() - started };
    };
    const measure = async (send: () => void) => {
      const runs = [];
      for (let i = 0; i < RUNS; i++) runs.push(await run(send));
      return { first: median(runs.map((r) => r.first)), done: median(runs.map((r) => r.done)) };
    };
    const question = 'What is on the agenda for the meeting tomorrow?';
    const typed = await measure(() => h.fake.dm(h.alice, question));
    const voice = (bytes: number, seconds: number) => {
      const clip = simVoiceClip(question, { seconds, bytes });
      return () => void sayVoice(h.fake, { author: h.alice, channelId: dm.id, bytes: clip, seconds });
    };
    const short = await measure(voice(120_000, 30));
    const big = await measure(voice(7 * 1024 * 1024, 290));
    const ms = (n: number) => Math.round(n);
    return {
      voice_typed_first_reply_ms: ms(typed.first),
      voice_typed_answer_ms: ms(typed.done),
      voice_30s_first_reply_ms: ms(short.first),
      voice_30s_answer_ms: ms(short.done),
      voice_7mb_first_reply_ms: ms(big.first),
      voice_7mb_answer_ms: ms(big.done),
    };
  } finally {
    await h.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await benchVoice();
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(36)} ${v}\n`);
  process.exit(0);
}
