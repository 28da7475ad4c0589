/**
 * DashScope's explicit context cache over one 20-turn conversation: the bot (qwen-plus, `cache:
 * explicit`, the default system prompt and FAQ tool) against the simulator, which caches marked
 * prefixes as DashScope does. Reports the share of input tokens read from the cache and what that saved
 * at the catalogue's prices, against the same conversation with every prompt token at the full price.
 */
import { pino } from 'pino';
import { createApp } from '../src/app.ts';
import type { UsageTotals } from '../src/core/usage.ts';
import { startDashScopeSim } from '../src/sim/dashscope-sim.ts';
import { channelRef, message, TEST_API_KEY, testConfig, UNPACED_MODELS } from '../test/support/harness.ts';
import { RecordingSurface } from '../test/support/recording-surface.ts';

const TURNS = 20;
const WORDS =
  'the tea is steeped at a lower temperature so that its leaves open slowly and keep their sweetness'.split(
    ' ',
  );

/** A chat-length answer: 120 to 300 words, different every turn. */
function answerFor(turn: number): string {
  const words = 120 + ((turn * 53) % 180);
  return Array.from({ length: words }, (_, i) => WORDS[(i * 7 + turn) % WORDS.length]).join(' ');
}

async function conversation(): Promise<{
  totals: UsageTotals;
  firstCachedTurn: number | null;
  usageShown: string;
}> {
  let turn = 0;
  const sim = await startDashScopeSim({ apiKey: TEST_API_KEY, responder: () => answerFor(turn) });
  const config = testConfig(sim.baseUrl, 'sqlite://:memory:', {
    guards: { userMessagesPerWindow: 1_000_000 },
    models: { 'qwen-plus': { ...UNPACED_MODELS['qwen-plus'], cache: 'explicit' } },
  });
  const app = await createApp(config, { log: pino({ level: 'silent' }) });
  let firstCachedTurn: number | null = null;
  try {
    for (turn = 1; turn <= TURNS; turn++) {
      const question = `Question ${turn}: how should I brew this tea, and why does it matter for the taste?`;
      await app.service.handleMessage(
        message(question, { conversation: channelRef('CACHE') }),
        new RecordingSurface(),
      );
      const last = (await app.service.history.load('test:W1:CACHE')).at(-1);
      if (firstCachedTurn === null && (last?.usage?.cachedTokens ?? 0) > 0) firstCachedTurn = turn;
    }
    const { today } = await app.service.usage.totals({ kind: 'conversation', key: 'test:W1:CACHE' });
    const author = { id: 'U1', name: 'Alice', isBot: false };
    const shown = await app.service.runCommand({ name: 'usage', conversation: channelRef('CACHE'), author });
    return {
      totals: today,
      firstCachedTurn,
      usageShown: shown.text.split('\n').find((l) => l.startsWith('Today')) ?? '',
    };
  } finally {
    await app.close();
    await sim.close();
  }
}

export async function benchCache(log: (line: string) => void): Promise<Record<string, number | null>> {
  log(`context cache: a ${TURNS}-turn conversation on qwen-plus with the explicit cache…`);
  const { totals, firstCachedTurn, usageShown } = await conversation();
  log(`context cache: /usage shows "${usageShown}"`);
  const uncached = totals.cost + totals.cacheSaving;
  const priceIn = 4; // qwen-plus in config/default.yaml, CNY per million input tokens
  const inputUncached = (totals.promptTokens * priceIn) / 1e6;
  const r = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;
  return {
    cache_cached_share_20_turns: r(totals.cachedTokens / totals.promptTokens),
    cache_written_share_20_turns: r(totals.cacheCreationTokens / totals.promptTokens),
    cache_first_cached_turn: firstCachedTurn,
    cache_input_tokens_20_turns: totals.promptTokens,
    cache_cached_tokens_20_turns: totals.cachedTokens,
    cache_cost_cny_20_turns: r(totals.cost, 5),
    cache_cost_uncached_cny_20_turns: r(uncached, 5),
    cache_saving_cny_20_turns: r(totals.cacheSaving, 5),
    cache_input_cost_saving_share: r(totals.cacheSaving / inputUncached),
  };
}
