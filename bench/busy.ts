/**
 * Busy-channel benchmark: 20 people mention the bot at once in ONE Discord channel (one conversation),
 * through the real discord.js client and the fake Discord, with a simulator paced like a real model
 * (first token after 400 ms, ~40 tokens/s, answers of ~300 tokens). Prints when each asker's reply
 * became visible (the bot's first message replying to them), how long until every answer was complete,
 * and the 429s the fake Discord sent. `node bench/busy.ts`; `bench/run.ts` calls `benchBusyChannel()`.
 */
import { startDiscordHarness } from '../test/discord/harness.ts';
import type { FakeUser } from '../test/support/fake-discord/index.ts';

export interface BusyChannelFigures {
  busy_channel_askers: number;
  busy_channel_last_reply_start_s: number;
  busy_channel_p50_reply_start_s: number;
  busy_channel_makespan_s: number;
  busy_channel_429s: number;
}

const ASKERS = 20;
/** ~300 tokens at the simulator's 4 characters per token. */
const ANSWER = 'a few words of a paced answer, '.repeat(39);

export async function benchBusyChannel(askers = ASKERS): Promise<BusyChannelFigures> {
  const people: FakeUser[] = [];
  const h = await startDiscordHarness({
    // A benchmark measures real time (and runs outside vitest, which fakes the clock).
    clock: 'real',
    sim: { responder: () => ANSWER, pace: { tokensPerSecond: 40, firstTokenDelayMs: 400 } },
    config: { qwen: { totalTimeoutMs: 600_000, firstTokenTimeoutMs: 600_000 } },
    prepare: (fake) => {
      const guild = [...fake.state.guilds.values()][0];
      if (!guild) throw new Error('no guild');
      for (let i = 0; i < askers; i++) {
        const user = fake.addUser(`asker${i}`, `Asker ${i}`);
        fake.addMember(guild, user);
        people.push(user);
      }
    },
  });
  try {
    const done = h.expectTurns(askers, 900_000);
    const start = Date.now();
    const asked = people.map((author, i) =>
      h.fake.say({ author, channelId: h.general.id, content: h.mention(`question ${i}: tell me more`) }),
    );
    const outcomes = await done;
    const makespan = (Date.now() - start) / 1000;
    const answered = outcomes.filter((o) => o.status === 'answered').length;
    if (answered !== askers) throw new Error(`only ${answered} of ${askers} answers completed`);
    // The first message of each answer replies to its question: when the fake Discord created it is
    // when its asker saw the reply start.
    const botReplies = h.fake.botMessages(h.general.id);
    const starts = asked.map((question) => {
      const reply = botReplies.find((m) => m.message_reference?.message_id === question.id);
      return ((reply ? Date.parse(reply.timestamp) : Number.NaN) - start) / 1000;
    });
    starts.sort((a, b) => a - b);
    if (process.env.BUSY_DEBUG) {
      const line = (r: { method: string; route: string; at: number; status: number }) =>
        `${((r.at - start) / 1000).toFixed(2)} ${r.method} ${r.route} ${r.status}`;
      process.stderr.write(`${h.fake.requests().map(line).join('\n')}\n`);
      const asks = h.sim.chatRequests().length;
      process.stderr.write(`model requests: ${asks}\n`);
    }
    const round = (n: number) => Math.round(n * 10) / 10;
    return {
      busy_channel_askers: askers,
      busy_channel_last_reply_start_s: round(starts.at(-1) ?? Number.NaN),
      busy_channel_p50_reply_start_s: round(starts[Math.floor(starts.length / 2)] ?? Number.NaN),
      busy_channel_makespan_s: round(makespan),
      busy_channel_429s: h.fake.rateLimited,
    };
  } finally {
    await h.close();
  }
}

if (import.meta.main) {
  const figures = await benchBusyChannel();
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  process.exit(0);
}
