/**
 * A tool call end to end on both platforms: the simulator streams `tool_calls` (arguments split across
 * chunks), the bot calls the real "everything" MCP server (a child process over stdio), the model's
 * second step sees the tool's result, and the channel shows the tool running (Discord: a status line;
 * Slack's native stream: a task), then the answer with the line naming the tool used.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { type DiscordHarness, startDiscordHarness } from '../discord/harness.ts';
import { type Rig, startRig } from '../slack/rig.ts';
import { showsStop } from '../support/fake-discord/components.ts';
import { pressButton } from '../support/fake-slack/index.ts';
import { everythingStdio } from '../support/mcp-servers.ts';
import { until } from './support.ts';

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers) await close();
});

const config = {
  faq: { enabled: false },
  mcp: { servers: { everything: everythingStdio() } },
  // Fake time runs about ten times as fast as real time: a loaded machine's spawn must not time out.
  tools: { callTimeoutMs: 120_000 },
};

const STOP = '⏹️ Stop';
const ECHO_ARGS = '{"message":"sunny in Lisbon, 24 degrees"}';

/** The tool message the model's second step received. */
function toolMessage(body: { messages: Array<{ role: string; content: unknown }> } | undefined) {
  return body?.messages.find((m) => m.role === 'tool') as
    | { content: unknown; tool_call_id?: string }
    | undefined;
}

describe('MCP tools on both platforms', () => {
  test('Discord: status line while the tool runs, then the answer with "used"', async () => {
    const h: DiscordHarness = await startDiscordHarness({ config });
    closers.push(() => h.close());
    await h.settle(h.app.tools.hub.settled(), 'the MCP server to start', 60_000);
    expect(h.app.tools.hub.servers()[0]?.state).toBe('ready');
    h.sim.script(
      { toolCalls: [{ name: 'everything__echo', arguments: ECHO_ARGS }] },
      { text: 'The forecast says sunny, 24 degrees.' },
    );
    const turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: h.general.id, content: h.mention('weather in Lisbon?') });
    const [outcome] = await turn;
    expect(outcome?.status).toBe('answered');

    const [first, second] = h.sim.chatRequests().slice(-2);
    const offered = ((first?.tools ?? []) as Array<{ function: { name: string } }>).map(
      (t) => t.function.name,
    );
    expect(offered).toContain('everything__echo');
    expect(toolMessage(second)?.content).toBe('Echo: sunny in Lisbon, 24 degrees');
    const call = second?.messages.find((m) => m.role === 'assistant') as
      | { tool_calls?: Array<{ id: string; function: { arguments: string } }> }
      | undefined;
    expect(call?.tool_calls?.[0]?.function.arguments).toBe(ECHO_ARGS);
    expect(call?.tool_calls?.[0]?.id).toBe(toolMessage(second)?.tool_call_id);

    await until(() => !showsStop(h.fake.botMessages(h.general.id).at(-1)), 'the final reply');
    const [reply] = h.fake.botMessages(h.general.id);
    expect(reply?.history[0]).toBe('🔧 everything.echo…');
    expect(reply?.content).toBe('The forecast says sunny, 24 degrees.\n\n🔧 used everything.echo');
    expect(h.fake.botMessages(h.general.id)).toHaveLength(1);
    // Only the answer is stored: the tool round is not part of the history.
    const turns = await h.app.service.history.load(`discord:${h.guild.id}:${h.general.id}`);
    expect(turns.at(-1)).toMatchObject({ role: 'assistant', text: 'The forecast says sunny, 24 degrees.' });
  });

  test('Slack: the native stream shows the tool as a task, then the answer with "used"', async () => {
    const rig: Rig = await startRig({ config });
    closers.push(() => rig.close());
    await rig.settle(rig.app.tools.hub.settled(), 'the MCP server to start', 60_000);
    rig.sim.script(
      { toolCalls: [{ name: 'everything__get-sum', arguments: '{"a": 19, "b": 23}' }] },
      { text: 'That makes 42.' },
    );
    const CHANNEL = 'C0GENERAL';
    const said = rig.say({ channel: CHANNEL, text: `<@${rig.fake.bot.userId}> what is 19 + 23?` });
    await rig.deliver(said);
    expect(String(toolMessage(rig.sim.chatRequests().at(-1))?.content)).toBe('The sum of 19 and 23 is 42.');
    const shown = rig.fake.thread(CHANNEL, said.ts).filter((m) => m.bot);
    expect(shown.map((m) => m.text)).toEqual(['That makes 42.\n\n🔧 used everything.get-sum']);
    expect(shown[0]?.pings).toEqual([]);
    // Streamed natively: the tool shows as a task of the stream, running and then done.
    const streamed = rig.fake.ws.find(CHANNEL, shown[0]?.ts ?? '');
    expect(rig.fake.calls.some((c) => c.method === 'chat.startStream')).toBe(true);
    expect(streamed?.taskUpdates).toEqual([
      'everything.get-sum: in_progress',
      'everything.get-sum: complete',
    ]);
    expect(streamed?.versions.some((v) => v.includes('🔧 everything.get-sum…'))).toBe(false);

    // When Slack refuses the stream, the answer goes on by post-and-update with the status line (the
    // tool takes half a second, so it is still running when the stream is refused).
    rig.fake.failNext('chat.startStream', 'internal_error');
    rig.sim.script(
      {
        toolCalls: [
          { name: 'everything__trigger-long-running-operation', arguments: '{"duration":0.5,"steps":1}' },
        ],
      },
      { text: 'Done waiting.' },
    );
    const again = rig.say({ channel: CHANNEL, text: `<@${rig.fake.bot.userId}> wait a moment` });
    await rig.deliver(again);
    expect(String(toolMessage(rig.sim.chatRequests().at(-1))?.content)).toBe(
      'Long running operation completed. Duration: 0.5 seconds, Steps: 1.',
    );
    const reply = rig.fake.thread(CHANNEL, again.ts).filter((m) => m.bot);
    expect(reply.map((m) => m.text)).toEqual([
      'Done waiting.\n\n🔧 used everything.trigger-long-running-operation',
    ]);
    const posted = rig.fake.ws.find(CHANNEL, reply[0]?.ts ?? '');
    expect(posted?.versions[0]).toBe('🔧 everything.trigger-long-running-operation…');
    expect(posted?.streaming).toBe(false);
  });

  test('Slack: Stop pressed while a tool runs ends its task as an error, not as done', async () => {
    const rig: Rig = await startRig({ config });
    closers.push(() => rig.close());
    await rig.settle(rig.app.tools.hub.settled(), 'the MCP server to start', 60_000);
    rig.sim.script(
      {
        toolCalls: [
          { name: 'everything__trigger-long-running-operation', arguments: '{"duration":60,"steps":2}' },
        ],
      },
      { text: 'Never asked for: the answer was stopped.' },
    );
    const CHANNEL = 'C0GENERAL';
    const said = rig.say({ channel: CHANNEL, text: `<@${rig.fake.bot.userId}> wait a minute` });
    const done = rig.deliver(said);
    const bots = () => rig.fake.thread(CHANNEL, said.ts).filter((m) => m.bot);
    const stream = await until(
      () => bots().find((m) => rig.fake.ws.find(CHANNEL, m.ts)?.taskUpdates?.length),
      'the tool to show as a running task',
    );
    const control = await until(() => bots().find((m) => m.buttons.includes(STOP)), 'the Stop button');
    const payload = pressButton(rig.fake, {
      user: 'U0ALICE',
      channel: CHANNEL,
      ts: control.ts,
      label: STOP,
    });
    expect((await rig.settle(rig.send.interaction(payload), 'the press to be acked')).status).toBe(200);
    await done;
    expect(rig.fake.ws.find(CHANNEL, stream.ts)?.taskUpdates).toEqual([
      'everything.trigger-long-running-operation: in_progress',
      'everything.trigger-long-running-operation: error',
    ]);
    // The model was not asked again after the stop.
    expect(rig.sim.chatRequests()).toHaveLength(1);
  });
});
