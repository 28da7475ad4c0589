/**
 * Pacing benchmark: 50 answers streaming at once through the real discord.js client and the fake
 * Discord (50 threads of one channel, so Discord's per-bot limits are shared), with a simulator that
 * streams each answer over a few seconds. Prints requests per second actually sent, 429s received and
 * time to first visible text. `node bench/pacing.ts`; `bench/run.ts` calls `benchDiscordPacing()`.
 */
import { startDiscordHarness } from '../test/discord/harness.ts';
import type { FakeChannel } from '../test/support/fake-discord/index.ts';

export interface PacingFigures {
  answers: number;
  seconds: number;
  requests_per_s: number;
  edits_per_message_per_s_max: number;
  pacing_429s: number;
  first_visible_p50_ms: number;
  first_visible_p99_ms: number;
}

const ANSWERS = 50;

export async function benchDiscordPacing(): Promise<PacingFigures> {
  const text = 'streaming words that arrive a few at a time '.repeat(12);
  let threads: FakeChannel[] = [];
  const h = await startDiscordHarness({
    // A benchmark measures real time (and runs outside vitest, which fakes the clock).
    clock: 'real',
    // Each answer streams for ~3 s, so 50 of them edit side by side.
    sim: { responder: () => text },
    config: { qwen: { totalTimeoutMs: 120_000 }, guards: { userMessagesPerWindow: 1000 } },
    prepare: (fake, { alice }) => {
      const parent = [...fake.state.channels.values()].find((c) => c.name === 'general');
      if (!parent) throw new Error('no general channel');
      threads = Array.from({ length: ANSWERS }, (_, i) => fake.createThread(parent, `t${i}`, alice));
    },
  });
  try {
    for (let i = 0; i < ANSWERS; i++) h.sim.script({ chunkChars: 8, chunkDelayMs: 50 });
    const before = h.fake.requests().length;
    const start = performance.now();
    const asked = new Map<string, number>();
    const done = h.expectTurns(ANSWERS, 180_000);
    for (const thread of threads) {
      asked.set(thread.id, Date.now());
      h.fake.say({ channelId: thread.id, author: h.alice, content: h.mention('go') });
    }
    const outcomes = await done;
    const answered = outcomes.filter((o) => o.status === 'answered').length;
    if (answered !== ANSWERS) throw new Error(`only ${answered} of ${ANSWERS} answers completed`);
    const seconds = (performance.now() - start) / 1000;
    const requests = h.fake.requests().slice(before);
    if (process.env.PACING_DEBUG) {
      const byRoute = new Map<string, number>();
      for (const r of requests)
        byRoute.set(`${r.method} ${r.route}`, (byRoute.get(`${r.method} ${r.route}`) ?? 0) + 1);
      process.stderr.write(`${JSON.stringify(Object.fromEntries(byRoute))}\n`);
    }
    const firstVisible: number[] = [];
    let maxEditRate = 0;
    for (const thread of threads) {
      const posts = requests.filter(
        (r) => r.method === 'POST' && r.path === `/channels/${thread.id}/messages`,
      );
      const t0 = asked.get(thread.id) ?? Date.now();
      const at = posts[0]?.at;
      if (at !== undefined) firstVisible.push(at - t0);
      const edits = requests.filter(
        (r) => r.method === 'PATCH' && r.path.startsWith(`/channels/${thread.id}/messages/`),
      );
      for (let i = 1; i < edits.length; i++) {
        const gap = (edits[i]?.at ?? 0) - (edits[i - 1]?.at ?? 0);
        if (gap > 0) maxEditRate = Math.max(maxEditRate, 1000 / gap);
      }
    }
    firstVisible.sort((a, b) => a - b);
    const pct = (p: number) =>
      Math.round(
        firstVisible[Math.min(firstVisible.length - 1, Math.floor(p * firstVisible.length))] ?? Number.NaN,
      );
    return {
      answers: ANSWERS,
      seconds: Math.round(seconds * 10) / 10,
      requests_per_s: Math.round((requests.length / seconds) * 10) / 10,
      edits_per_message_per_s_max: Math.round(maxEditRate * 100) / 100,
      pacing_429s: h.fake.rateLimited,
      first_visible_p50_ms: pct(0.5),
      first_visible_p99_ms: pct(0.99),
    };
  } finally {
    await h.close();
  }
}

if (import.meta.main) {
  const figures = await benchDiscordPacing();
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  process.exit(0);
}
