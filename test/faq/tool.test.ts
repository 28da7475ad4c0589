import { afterEach, describe, expect, it } from 'vitest';
import { faqToolDefinition, runFaqTool } from '../../src/faq/tool.ts';
import type { ChatMessage, ChatResult, QwenClient } from '../../src/qwen/client.ts';
import { ToolRegistry } from '../../src/tools/registry.ts';
import { type Harness, message, silentLogger, startHarness } from '../support/harness.ts';
import { RecordingSurface } from '../support/recording-surface.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function complete(qwen: QwenClient, messages: ChatMessage[]): Promise<ChatResult> {
  const stream = qwen.streamChat({ model: 'qwen-plus', messages, tools: [faqToolDefinition] });
  for (;;) {
    const next = await stream.next();
    if (next.done) return next.value;
  }
}

describe('search_faq tool', () => {
  it('a whole tool round: the model asks, the FAQ answers as a tool message, the model answers from it', async () => {
    h = await startHarness({ config: { faq: { watch: false } } });
    h.sim.script(
      { toolCalls: [{ name: 'search_faq', arguments: '{"query":"how can I reset this conversation"}' }] },
      { text: 'Type /reset in the channel.' },
    );
    const messages: ChatMessage[] = [{ role: 'user', content: 'Alice: how can I reset this conversation?' }];
    const first = await complete(h.app.qwen, messages);
    expect(first.finishReason).toBe('tool_calls');
    expect(first.toolCalls[0]?.id).not.toBe('');
    const registry = new ToolRegistry({ config: h.app.config, log: silentLogger(), faq: h.app.faq });
    const scope = {
      platform: 'test',
      conversation: 'test:W1:C1',
      channelId: 'C1',
      userId: 'U1',
      isDM: false,
    };
    const tools = await registry.forScope(scope);
    const ctx = { signal: new AbortController().signal, onRunning: () => undefined };
    const { messages: more, used } = await tools.run(first.toolCalls, ctx);
    expect(used).toEqual(['faq']);
    const second = await complete(h.app.qwen, [...messages, ...more]);
    expect(second.text).toBe('Type /reset in the channel.');
    const sent = h.sim.chatRequests().at(-1)?.messages ?? [];
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    expect(String(sent[2]?.content)).toContain('"question":"How do I reset the conversation?"');
    expect((sent[1] as { tool_calls?: Array<{ id: string }> }).tool_calls?.[0]?.id).toBe(
      (sent[2] as { tool_call_id?: string }).tool_call_id,
    );
    const unknown = await tools.run([{ id: 'c1', name: 'get_weather', arguments: '{}' }], ctx);
    expect(unknown.used).toEqual([]);
    expect(unknown.messages[1]).toEqual({
      role: 'tool',
      tool_call_id: 'c1',
      content: '{"error":"unknown tool \\"get_weather\\""}',
    });
  });

  it('the model calls search_faq through the tool-call chunks; the result carries the matching entry', async () => {
    h = await startHarness({ config: { faq: { watch: false } } });
    expect(h.app.faq.toolEnabled).toBe(true);
    h.sim.script({
      toolCalls: [{ name: 'search_faq', arguments: '{"query":"how can I reset this conversation"}' }],
    });
    const stream = h.app.qwen.streamChat({
      model: 'qwen-plus',
      messages: [{ role: 'user', content: 'how can I reset this conversation?' }],
      tools: [faqToolDefinition],
    });
    let result: ChatResult | undefined;
    for (let next = await stream.next(); ; next = await stream.next()) {
      if (next.done) {
        result = next.value;
        break;
      }
    }
    const sent = h.sim.chatRequests().at(-1) as { tools?: Array<{ function: { name: string } }> };
    expect(sent.tools?.map((t) => t.function.name)).toEqual(['search_faq']);
    const call = result?.toolCalls[0];
    expect(call?.name).toBe('search_faq');
    const out = JSON.parse(await runFaqTool(h.app.faq, call?.arguments ?? ''));
    expect(out.note).toBe('The first entry answers the question.');
    expect(out.matches[0]).toEqual({
      question: 'How do I reset the conversation?',
      answer:
        "Use `/reset` in the channel, thread or DM. It forgets that conversation's history only; other channels, threads and DMs keep theirs.",
      score: 0.82,
    });
  });

  it('returns no entries for an unrelated question, and a short error for bad arguments', async () => {
    h = await startHarness({ config: { faq: { watch: false, tool: false } } });
    expect(h.app.faq.toolEnabled).toBe(false);
    expect(
      JSON.parse(await runFaqTool(h.app.faq, { query: 'Who won the football match yesterday?' })),
    ).toEqual({
      matches: [],
      note: 'No FAQ entry matches; answer without the FAQ.',
    });
    expect(JSON.parse(await runFaqTool(h.app.faq, '{"query":'))).toEqual({
      error: 'arguments must be JSON like {"query": "…"}',
    });
    expect(JSON.parse(await runFaqTool(h.app.faq, '{}'))).toEqual({
      error: 'missing "query": the question to look up',
    });
  });
});

describe('search_faq in normal chat', () => {
  it('a mention answered from the FAQ says so, and the model saw the FAQ entry', async () => {
    h = await startHarness({ config: { faq: { watch: false } } });
    await h.app.faq.ready();
    h.sim.script(
      { toolCalls: [{ name: 'search_faq', arguments: '{"query":"how do I reset the conversation"}' }] },
      { text: 'Use /reset in the channel.' },
    );
    const surface = new RecordingSurface();
    const outcome = await h.app.service.handleMessage(message('how do I reset the conversation?'), surface);
    expect(outcome.status).toBe('answered');
    expect(surface.shown()).toEqual(['Use /reset in the channel.\n\n📖 Looked this up in the FAQ.']);
    const [first, second] = h.sim.chatRequests().slice(-2);
    expect((first?.tools as Array<{ function: { name: string } }> | undefined)?.[0]?.function.name).toBe(
      'search_faq',
    );
    expect(second?.messages.map((m) => m.role).slice(-3)).toEqual(['user', 'assistant', 'tool']);
    expect(String(second?.messages.at(-1)?.content)).toContain('How do I reset the conversation?');
    // Only the final text is stored as the answer.
    const turns = await h.app.service.history.load('test:W1:C1');
    expect(turns.at(-1)).toMatchObject({ role: 'assistant', text: 'Use /reset in the channel.' });
  });

  it('models without tool support, or faq.tool off, get no tools', async () => {
    h = await startHarness({ config: { faq: { watch: false, tool: false } } });
    await h.app.service.handleMessage(message('hello'), new RecordingSurface());
    expect(h.sim.chatRequests().at(-1)?.tools).toBeUndefined();
  });
});
