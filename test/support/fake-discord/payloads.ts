/**
 * Messages, interactions and commands as the fake Discord builds them: what its gateway sends when people
 * do things (MESSAGE_CREATE, INTERACTION_CREATE), the bot's messages and its command registrations.
 */
import { type Body, channelApi, commandProblem, type Reply } from './rules.ts';
import {
  BASE_PERMISSIONS,
  type FakeAttachment,
  type FakeChannel,
  type FakeGuild,
  type FakeInteraction,
  type FakeMessage,
  type FakeState,
  type FakeUser,
} from './state.ts';

export interface SayOptions {
  author: FakeUser;
  channelId: string;
  content: string;
  /** Message id this one replies to. */
  replyTo?: string;
  /** Whether the reply pings the replied-to author (Discord's default: yes). */
  pingReply?: boolean;
  attachments?: FakeAttachment[];
  /** Message flags (e.g. IS_VOICE_MESSAGE, 1 << 13). */
  flags?: number;
}

export interface InteractionOptions {
  user: FakeUser;
  channelId: string;
  locale?: string;
}

/** A user's message in `ch` (stored there), and its MESSAGE_CREATE payload. */
export function userMessage(
  s: FakeState,
  ch: FakeChannel,
  opts: SayOptions,
): { message: FakeMessage; payload: Record<string, unknown> } {
  const ids = [...opts.content.matchAll(/<@!?(\d+)>/g)].map((m) => m[1] ?? '');
  const replied = opts.replyTo ? s.findMessage(opts.replyTo) : undefined;
  const mentions = [...new Set(ids)]
    .map((id) => s.users.get(id))
    .filter((u): u is FakeUser => u !== undefined);
  // A reply pings the replied-to author by default; Discord lists them in mentions.
  if (replied && opts.pingReply !== false && !mentions.some((u) => u.id === replied.author.id)) {
    mentions.push(replied.author);
  }
  const m: FakeMessage = {
    id: s.nextId(),
    channel_id: ch.id,
    ...(ch.guild_id ? { guild_id: ch.guild_id } : {}),
    author: opts.author,
    content: opts.content,
    edits: 0,
    history: [opts.content],
    components: [],
    embeds: [],
    attachments: opts.attachments ?? [],
    flags: opts.flags ?? 0,
    ...(replied
      ? { message_reference: { message_id: replied.id, channel_id: ch.id, guild_id: ch.guild_id } }
      : {}),
    mentions,
    mention_roles: [...new Set([...opts.content.matchAll(/<@&(\d+)>/g)].map((x) => x[1] ?? ''))],
    mention_everyone: /@(everyone|here)/.test(opts.content),
    deleted: false,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    type: replied ? 19 : 0,
  };
  s.addMessage(m);
  const guild = ch.guild_id ? s.guilds.get(ch.guild_id) : undefined;
  // The real gateway sends channel_type; discord.js needs it to build an uncached DM channel.
  const payload: Record<string, unknown> = { ...s.toApi(m), channel_type: ch.type };
  if (guild) {
    payload.member = memberApi(guild, opts.author.id);
    payload.mentions = mentions.map((u) => ({ ...u, member: memberApi(guild, u.id) }));
  }
  return { message: m, payload };
}

/** A new interaction of `type` in `ch` by `opts.user`, and its INTERACTION_CREATE payload. */
export function interaction(
  s: FakeState,
  ch: FakeChannel,
  opts: InteractionOptions,
  { type, data, message }: { type: number; data: Record<string, unknown>; message?: unknown },
): { it: FakeInteraction; payload: Record<string, unknown> } {
  const guild = ch.guild_id ? s.guilds.get(ch.guild_id) : undefined;
  const it: FakeInteraction = {
    id: s.nextId(),
    token: `itok-${s.nextId()}`,
    type,
    channelId: ch.id,
    ...(guild ? { guildId: guild.id } : {}),
    createdAt: Date.now(),
    ephemeral: false,
    followUps: [],
  };
  const memberPerms = guild?.members.get(opts.user.id)?.permissions ?? String(BASE_PERMISSIONS);
  const payload = {
    id: it.id,
    application_id: s.applicationId,
    type,
    data,
    token: it.token,
    version: 1,
    channel_id: ch.id,
    channel: channelApi(ch),
    ...(guild
      ? {
          guild_id: guild.id,
          guild_locale: guild.preferredLocale,
          member: { ...memberApi(guild, opts.user.id), permissions: memberPerms },
        }
      : { user: opts.user }),
    locale: opts.locale ?? 'en-US',
    app_permissions: String(BASE_PERMISSIONS),
    entitlements: [],
    authorizing_integration_owners: {},
    context: guild ? 0 : 1,
    ...(message ? { message } : {}),
  };
  return { it, payload };
}

export function memberApi(guild: FakeGuild, userId: string): Record<string, unknown> {
  const m = guild.members.get(userId);
  return {
    user: m?.user ?? { id: userId, username: 'unknown', discriminator: '0', global_name: null, avatar: null },
    nick: m?.nick ?? null,
    roles: m?.roles ?? [],
    joined_at: new Date(0).toISOString(),
    deaf: false,
    mute: false,
    flags: 0,
  };
}

export function optionType(command: Record<string, unknown> | undefined, name: string): number {
  const options = (command?.options as Array<{ name: string; type: number }> | undefined) ?? [];
  return options.find((o) => o.name === name)?.type ?? 3;
}

/** A bot message from a REST body (pings are worked out by the caller). */
export function botMessage(
  s: FakeState,
  ch: FakeChannel,
  body: Body,
  extra: { interactionId?: string; flags?: number },
): FakeMessage {
  const content = typeof body.content === 'string' ? body.content : '';
  const ref = body.message_reference as { message_id: string } | undefined;
  const m: FakeMessage = {
    id: s.nextId(),
    channel_id: ch.id,
    ...(ch.guild_id ? { guild_id: ch.guild_id } : {}),
    author: s.bot,
    content,
    edits: 0,
    history: [content],
    components: (body.components as unknown[]) ?? [],
    embeds: (body.embeds as unknown[]) ?? [],
    attachments: [],
    flags: extra.flags ?? Number(body.flags ?? 0),
    allowed_mentions: body.allowed_mentions,
    ...(ref
      ? { message_reference: { message_id: ref.message_id, channel_id: ch.id, guild_id: ch.guild_id } }
      : {}),
    mentions: [],
    mention_roles: [],
    mention_everyone: false,
    deleted: false,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    type: extra.interactionId ? 20 : ref ? 19 : 0,
    ...(extra.interactionId ? { interactionId: extra.interactionId } : {}),
  };
  return m;
}

/** A bulk overwrite of application commands (global, or a guild's): `list` becomes the new set. */
export function replaceCommands(
  s: FakeState,
  list: Array<Record<string, unknown>>,
  body: Body | undefined,
  guildId?: string,
): Reply {
  if (!Array.isArray(body)) return { status: 400, body: { message: 'Invalid Form Body', code: 50035 } };
  const problem = body.map((c) => commandProblem(c as Record<string, unknown>)).find(Boolean);
  if (problem) return { status: 400, body: { message: `Invalid Form Body: ${problem}`, code: 50035 } };
  list.length = 0;
  for (const c of body as Array<Record<string, unknown>>) {
    list.push({
      ...c,
      id: s.nextId(),
      application_id: s.applicationId,
      version: s.nextId(),
      ...(guildId ? { guild_id: guildId } : {}),
    });
  }
  return { status: 200, body: list };
}
