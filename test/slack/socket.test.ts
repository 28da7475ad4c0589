import { afterEach, describe, expect, it } from 'vitest';
import { slash } from '../support/fake-slack/index.ts';
import { ACK_DEADLINE_MS } from '../support/fake-slack/socket.ts';
import { until } from '../support/fake-time.ts';
import { ALICE, type Rig, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

describe('Socket Mode', () => {
  it('connects with the app token, acks each envelope at once and answers in the thread', async () => {
    rig = await startRig({ mode: 'socket' });
    expect(rig.slack.mode).toBe('socket');
    expect(rig.slack.ready).toBe(true);
    expect(rig.slack.handleHttp).toBeUndefined();
    expect(rig.fake.count('apps.connections.open')).toBe(1);
    rig.sim.script({ text: 'Delivered over the socket.', firstTokenDelayMs: 300 });
    const said = rig.say({ channel: 'C0GENERAL', text: `<@${rig.fake.bot.userId}> are you there?` });
    await rig.deliver(said);
    const acks = rig.fake.socket.acks;
    expect(acks).toHaveLength(2);
    for (const ack of acks) expect(ack.ms).toBeLessThan(Math.min(ACK_DEADLINE_MS, 300));
    const replies = rig.fake.thread('C0GENERAL', said.ts).filter((m) => m.bot);
    expect(replies.map((m) => m.text)).toEqual(['Delivered over the socket.']);
  });

  it('takes slash commands over the socket and answers through response_url', async () => {
    rig = await startRig({ mode: 'socket' });
    const ack = await rig.fake.socket.deliverCommand(
      slash(rig.fake, { user: ALICE, channel: 'D0ALICE', text: 'reset' }),
    );
    expect(ack.ms).toBeLessThan(ACK_DEADLINE_MS);
    await rig.deliver({ ts: '', message: {}, deliveries: [] });
    expect(rig.fake.responses.map((r) => r.body.text)).toEqual(['History cleared for this conversation.']);
  });

  it('reconnects after the connection drops, and says it is not ready meanwhile', async () => {
    rig = await startRig({ mode: 'socket' });
    rig.fake.socket.dropAll();
    await until(() => !rig.slack.ready, 'the adapter to notice the drop');
    // The SDK waits its ping timeout (5 s) before asking apps.connections.open for a new URL.
    await until(() => rig.slack.ready, 'Socket Mode to reconnect', 12_000, 100);
    expect(rig.fake.count('apps.connections.open')).toBe(2);
    const said = rig.say({ channel: 'D0ALICE', text: 'still there?' });
    rig.sim.script({ text: 'Yes, reconnected.' });
    await rig.deliver(said);
    expect(
      rig.fake
        .channel('D0ALICE')
        .filter((m) => m.bot)
        .map((m) => m.text),
    ).toEqual(['Yes, reconnected.']);
  }, 20_000);

  it('disconnects on stop', async () => {
    rig = await startRig({ mode: 'socket' });
    expect(rig.fake.socket.open).toBe(1);
    await rig.settle(rig.slack.stop(), 'the adapter to stop');
    expect(rig.slack.ready).toBe(false);
    await until(() => rig.fake.socket.open === 0, 'the socket to close');
  });
});
