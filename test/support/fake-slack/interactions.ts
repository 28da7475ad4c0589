/**
 * People pressing things in the fake workspace: a press on a button of a bot message becomes the
 * `block_actions` payload Slack sends (with a fresh trigger_id), and sending a modal the app opened
 * becomes a `view_submission`. Presses are built from the blocks the message shows, so a test can only
 * press what a person could see. Deliver the payloads with `SignedSender.interaction`.
 */
import type { FakeSlack } from './server.ts';

type Node = Record<string, unknown>;

let seq = 0;

function issueTrigger(fake: FakeSlack, user: string): string {
  const trigger = `${++seq}.${Date.now()}.trig`;
  fake.ws.triggers.set(trigger, { at: Date.now(), user });
  return trigger;
}

const userOf = (fake: FakeSlack, user: string) => ({
  id: user,
  username: user.toLowerCase(),
  name: user.toLowerCase(),
  team_id: fake.team.id,
});

/** The 👍 / 👎 on a bot message: Slack's feedback buttons, or Block Kit buttons showing that emoji. */
export function pressFeedback(
  fake: FakeSlack,
  o: { user: string; channel: string; ts: string; emoji: '👍' | '👎' },
): Record<string, unknown> {
  const m = fake.ws.find(o.channel, o.ts);
  if (!m) throw new Error(`no message ${o.ts} in ${o.channel}`);
  let action: Node | undefined;
  let blockId = '';
  for (const [i, block] of (m.blocks ?? []).entries()) {
    blockId = typeof block.block_id === 'string' ? block.block_id : `b${i}`;
    for (const e of (block.elements as Node[] | undefined) ?? []) {
      if (e.type === 'feedback_buttons') {
        const button = (o.emoji === '👍' ? e.positive_button : e.negative_button) as Node;
        action = { type: 'feedback_buttons', action_id: e.action_id, text: button.text, value: button.value };
      } else if (e.type === 'button' && (e.text as Node | undefined)?.text === o.emoji) {
        action = { type: 'button', action_id: e.action_id, text: e.text, value: e.value };
      }
      if (action) break;
    }
    if (action) break;
  }
  if (!action) throw new Error(`message ${o.ts} shows no ${o.emoji} button`);
  const message = {
    type: 'message',
    user: m.user,
    ts: m.ts,
    text: m.text,
    ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
    blocks: m.blocks,
  };
  return {
    type: 'block_actions',
    user: userOf(fake, o.user),
    api_app_id: 'A0FAKE',
    token: 'legacy-verification-token',
    container: {
      type: 'message',
      message_ts: m.ts,
      channel_id: o.channel,
      is_ephemeral: false,
      ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
    },
    trigger_id: issueTrigger(fake, o.user),
    team: { id: fake.team.id, domain: fake.team.name.toLowerCase() },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: o.channel, name: o.channel.startsWith('D') ? 'directmessage' : 'general' },
    message,
    state: { values: {} },
    response_url: `${fake.url}/respond/action${seq}`,
    actions: [{ ...action, block_id: blockId, action_ts: `${Date.now() / 1000}` }],
  };
}

/** The person fills in the modal the app opened last for them and presses its submit button. */
export function submitView(
  fake: FakeSlack,
  o: { user: string; values: Record<string, string> },
): Record<string, unknown> {
  const opened = [...fake.ws.views].reverse().find((v) => v.user === o.user);
  if (!opened) throw new Error(`no modal open for ${o.user}`);
  const values: Record<string, Record<string, Node>> = {};
  for (const block of (opened.view.blocks as Node[] | undefined) ?? []) {
    if (block.type !== 'input') continue;
    const element = block.element as Node;
    const actionId = String(element.action_id);
    values[String(block.block_id)] = {
      [actionId]: { type: element.type, value: o.values[actionId] ?? null },
    };
  }
  return {
    type: 'view_submission',
    team: { id: fake.team.id, domain: fake.team.name.toLowerCase() },
    user: userOf(fake, o.user),
    api_app_id: 'A0FAKE',
    token: 'legacy-verification-token',
    trigger_id: issueTrigger(fake, o.user),
    view: {
      ...opened.view,
      id: opened.id,
      team_id: fake.team.id,
      app_id: 'A0FAKE',
      bot_id: fake.bot.botId,
      state: { values },
      hash: `${seq}.hash`,
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}
