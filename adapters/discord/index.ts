/**
 * The Discord adapter: connects discord.js (REST + gateway, optionally to another Discord-compatible
 * API base), registers the core's commands, and translates messages and interactions into ChatService
 * calls. No conversation logic lives here; the adapter itself is `DiscordAdapter` (adapter.ts).
 */
import type { Client } from 'discord.js';
import type { Config } from '../../src/config/schema.ts';
import type { MessageActions } from '../../src/core/message-actions.ts';
import type { ChatService } from '../../src/core/service.ts';
import type { Logger } from '../../src/log.ts';
import type { Metrics } from '../../src/metrics.ts';
import type { AdapterStarter, PlatformAdapter } from '../../src/platform.ts';
import { DiscordAdapter } from './adapter.ts';
import type { DiscordPacing } from './surface.ts';

export { DiscordAdapter } from './adapter.ts';
export { toApplicationCommand } from './commands.ts';
export { restBase } from './gateway.ts';
export { INVITE_PERMISSIONS, INVITE_SCOPES, inviteUrl, resolvePermission } from './invite.ts';
export { DISCORD_PACING, type DiscordPacing, DiscordReplySurface, NO_PINGS } from './surface.ts';

export interface DiscordHandle extends PlatformAdapter {
  readonly client: Client;
  /** True once the gateway is ready and commands are registered. */
  readonly ready: boolean;
  /** Resolves when `ready` turns true. */
  readonly whenReady: Promise<void>;
  readonly inviteUrl: string | undefined;
}

export interface StartDiscordOptions {
  config: Pick<Config, 'discord' | 'streaming' | 'locale' | 'attachments'>;
  service: ChatService;
  log: Logger;
  /** Translate / Summarize thread on a message (message context menus); none registered without. */
  actions?: MessageActions | undefined;
  /** Counts the 429s Discord answered (qwenbot_platform_rate_limits_total). */
  metrics?: Metrics | undefined;
  /** Aborted when start-up is given up: stop connecting (login rejects with a StartupError). */
  signal?: AbortSignal | undefined;
  /** Why the gateway is not connected yet (close code, HTTP status), while start-up waits for it. */
  report?: ((problem: string) => void) | undefined;
  /** Tests only (never from config): faster channel pacing than the platform's. Default DISCORD_PACING. */
  pacing?: Partial<DiscordPacing> | undefined;
}

/** Resolves once the gateway connection is open (commands register when it is ready: `whenReady`). */
export async function startDiscord(options: StartDiscordOptions): Promise<DiscordHandle> {
  return new DiscordAdapter(options).connect();
}

/** Discord as one of main's platforms (the library loads only when it is configured). */
export const startDiscordAdapter = {
  platform: 'discord',
  async start({ app, signal, report }) {
    if (!app.config.discord.token) return undefined;
    const { config, service, log, metrics, actions } = app;
    return startDiscord({ config, service, log, metrics, actions, signal, report });
  },
} satisfies AdapterStarter;
