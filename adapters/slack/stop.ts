/**
 * Stop on Slack, with Discord's rules: the asker or an admin (workspace admin/owner per users.info, or
 * `guards.admins`) may stop an answer; what was written stays, ending with "stopped by …"; the button
 * goes when the answer ends. A post-and-update answer carries the button in its own blocks. A native
 * stream cannot lose blocks it streamed (it only grows, and `chat.stopStream`'s blocks come after the
 * text), so while one streams a small control message with the button sits under it, deleted when the
 * answer ends. It costs a post and a delete, so it shows only once an answer has streamed for a few
 * seconds (a short answer is over before anyone could press) and only while the channel's
 * `chat.postMessage` budget has room (it never delays an answer's own messages).
 */
import type { App, types, webApi } from '@slack/bolt';
import type { ChatService } from '../../src/core/service.ts';
import type { Locale } from '../../src/i18n.ts';
import { t, toLocale } from '../../src/i18n.ts';
import type { Logger } from '../../src/log.ts';
import type { UserDirectory } from './users.ts';

export const STOP_ACTION = 'qwenbot_stop';

/** What a Stop button stops (the id of the message being answered) and what it says. */
export interface StopButton {
  value: string;
  label: string;
}

export function stopActions(button: StopButton): types.ActionsBlock {
  return {
    type: 'actions',
    block_id: 'qwenbot_stop',
    elements: [
      {
        type: 'button',
        action_id: STOP_ACTION,
        text: { type: 'plain_text', text: `⏹️ ${button.label}`, emoji: true },
        value: button.value,
      },
    ],
  };
}

/** How long a native answer streams before its Stop control is posted. */
export const STOP_CONTROL_DELAY_MS = 3000;

export interface ControlTarget {
  client: webApi.WebClient;
  channel: string;
  threadTs: string;
  button: StopButton;
  log: Logger;
  /** Takes a place in the channel's chat.postMessage budget if it has room now (false: skip the control). */
  tryPost?: () => boolean;
}

/** The Stop control under a native stream: posted once when the first stream starts, deleted at the end. */
export class StopControl {
  private readonly target: ControlTarget;
  private posted: Promise<string | undefined> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private removed = false;

  constructor(target: ControlTarget) {
    this.target = target;
  }

  /** The answer streams: the control follows after STOP_CONTROL_DELAY_MS unless the answer ended. */
  show(): void {
    if (this.timer || this.posted || this.removed) return;
    this.timer = setTimeout(() => this.post(), STOP_CONTROL_DELAY_MS);
    this.timer.unref?.();
  }

  private post(): void {
    if (this.posted || this.removed) return;
    if (this.target.tryPost && !this.target.tryPost()) return;
    const { client, channel, threadTs, button, log } = this.target;
    this.posted = client.chat
      .postMessage({ channel, thread_ts: threadTs, text: button.label, blocks: [stopActions(button)] })
      .then((res) => res.ts)
      .catch((err: unknown) => {
        log.debug({ err }, 'Stop control not posted; the answer streams without it');
        return undefined;
      });
  }

  async hide(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    clearTimeout(this.timer);
    const ts = await this.posted;
    if (!ts) return;
    const { client, channel, log } = this.target;
    await client.chat
      .delete({ channel, ts })
      .catch((err: unknown) => log.warn({ err, ts }, 'Stop control could not be removed'));
  }
}

export interface StopDeps {
  client: webApi.WebClient;
  service: ChatService;
  users: UserDirectory;
  log: Logger;
  fallbackLocale: Locale;
  track: (work: Promise<unknown>) => void;
}

interface StopPress {
  user: { id: string };
  channel?: { id: string };
  container?: { channel_id?: string; thread_ts?: string; message_ts?: string };
  message?: { thread_ts?: string; ts?: string };
}

/** A press of Stop: the answer stops when the presser may stop it; otherwise they alone are told why not. */
export function listenForStop(app: App, deps: StopDeps): void {
  app.action(STOP_ACTION, async ({ ack, body, action }) => {
    await ack();
    const press = body as unknown as StopPress;
    const value = (action as { value?: string }).value ?? '';
    deps.track(
      (async () => {
        const presser = await deps.users.get(press.user.id);
        if (deps.service.stop(value, presser)) {
          deps.log.info({ by: presser.id, answer: value }, 'answer stopped from Slack');
          return;
        }
        const channel = press.container?.channel_id ?? press.channel?.id;
        if (!channel) return;
        const threadTs = press.container?.thread_ts ?? press.message?.thread_ts;
        await deps.client.chat.postEphemeral({
          channel,
          user: presser.id,
          ...(threadTs ? { thread_ts: threadTs } : {}),
          text: t(toLocale(presser.locale, deps.fallbackLocale), 'stop.refused'),
        });
      })(),
    );
  });
}
