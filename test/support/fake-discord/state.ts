/**
 * The fake Discord's world: users, guilds, channels, each channel's messages (with their edit counts),
 * registered application commands, pending interactions, and every REST request the bot made.
 */

export interface FakeUser {
  id: string;
  username: string;
  global_name: string | null;
  discriminator: string;
  avatar: null;
  bot?: boolean;
}

export interface FakeChannel {
  id: string;
  /** 0 text, 1 DM, 11 public thread, 12 private thread. */
  type: number;
  name?: string;
  guild_id?: string;
  parent_id?: string;
  /** DM partner. */
  recipient?: FakeUser;
  /** The bot lacks Read Message History here: listing messages answers 403 Missing Access. */
  noHistory?: boolean;
}

export interface FakeMember {
  user: FakeUser;
  nick: string | null;
  roles: string[];
  /** Permission bitfield as a decimal string (what interactions carry). */
  permissions: string;
}

export interface FakeGuild {
  id: string;
  name: string;
  ownerId: string;
  preferredLocale: string;
  /** Role granting Manage Server, given to members added as admins. */
  adminRoleId: string;
  members: Map<string, FakeMember>;
}

export interface FakeAttachment {
  id: string;
  filename: string;
  size: number;
  content_type?: string;
  url: string;
  proxy_url: string;
  /** Voice messages: the recording's length, and a base64 preview of its waveform. */
  duration_secs?: number;
  waveform?: string;
}

export interface FakeMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: FakeUser;
  content: string;
  /** How many times the content or components were edited (PATCH requests that succeeded). */
  edits: number;
  /** Content after each successful create/edit, in order. */
  history: string[];
  components: unknown[];
  embeds: unknown[];
  attachments: FakeAttachment[];
  flags: number;
  allowed_mentions?: unknown;
  message_reference?: { message_id: string; channel_id?: string; guild_id?: string };
  mentions: FakeUser[];
  /** Role ids this message pings. */
  mention_roles: string[];
  mention_everyone: boolean;
  deleted: boolean;
  timestamp: string;
  edited_timestamp: string | null;
  type: number;
  /** Set for interaction responses and follow-ups. */
  interactionId?: string;
}

export interface RecordedRequest {
  method: string;
  /** Path after the API version, without the query string (e.g. /channels/1/messages). */
  path: string;
  query: string;
  /** Route template, e.g. PATCH /channels/:id/messages/:id. */
  route: string;
  body: Record<string, unknown> | undefined;
  status: number;
  at: number;
}

export interface FakeInteraction {
  id: string;
  token: string;
  type: number;
  channelId: string;
  guildId?: string;
  createdAt: number;
  /** Callback type the bot answered with (4 reply, 5 defer, 6 deferred update, 7 update, 8 autocomplete, 9 modal). */
  callbackType?: number;
  callbackAt?: number;
  /** Data of the callback (autocomplete choices, reply content). */
  callbackData?: Record<string, unknown>;
  ephemeral: boolean;
  /** The message holding the response (created on reply/defer). */
  originalId?: string;
  followUps: string[];
  /** The modal the bot opened in answer (callback type 9), as the person sees it. */
  modal?: Record<string, unknown>;
  /** The message the pressed component was on. */
  messageId?: string;
}

const DISCORD_EPOCH = 1_420_070_400_000n;
/** View Channel, Send Messages, Read Message History. */
export const BASE_PERMISSIONS = (1n << 10n) | (1n << 11n) | (1n << 16n);
export const MANAGE_GUILD = 1n << 5n;

export class FakeState {
  private seq = 0n;
  readonly bot: FakeUser;
  readonly applicationId: string;
  readonly users = new Map<string, FakeUser>();
  readonly guilds = new Map<string, FakeGuild>();
  readonly channels = new Map<string, FakeChannel>();
  readonly messages = new Map<string, FakeMessage[]>();
  private readonly messagesById = new Map<string, FakeMessage>();
  readonly requests: RecordedRequest[] = [];
  readonly globalCommands: Array<Record<string, unknown>> = [];
  readonly guildCommands = new Map<string, Array<Record<string, unknown>>>();
  readonly interactions = new Map<string, FakeInteraction>();
  /** Bytes served under /attachments/:id/:name; a stalled one sends half its bytes and never ends. */
  readonly files = new Map<
    string,
    { bytes: Uint8Array; type: string; downloads: number; stalled?: boolean }
  >();

  /** What GET /gateway/bot recommends (shards: 'auto'). */
  recommendedShards = 1;
  /**
   * Shards that may IDENTIFY per 5 s (Discord: 1, or 16+ for large bots). discord.js waits out the
   * 5 s in real time (node:timers/promises, which fake timers leave alone).
   */
  maxConcurrency = 1;

  constructor() {
    this.bot = this.addUser('qwenbot', { bot: true });
    this.applicationId = this.bot.id;
  }

  /** A snowflake: increasing, with the current time in its top bits (discord.js reads timestamps off ids). */
  nextId(): string {
    this.seq = (this.seq + 1n) & 0xfffn;
    return (
      ((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) |
      (BigInt(process.pid & 0x3ff) << 12n) |
      this.seq
    ).toString();
  }

  addUser(username: string, opts: { bot?: boolean; globalName?: string } = {}): FakeUser {
    const user: FakeUser = {
      id: this.nextId(),
      username,
      global_name: opts.globalName ?? null,
      discriminator: '0',
      avatar: null,
      ...(opts.bot ? { bot: true } : {}),
    };
    this.users.set(user.id, user);
    return user;
  }

  channelMessages(channelId: string): FakeMessage[] {
    let list = this.messages.get(channelId);
    if (!list) {
      list = [];
      this.messages.set(channelId, list);
    }
    return list;
  }

  /** Adds a message to its channel (and to the index by id). */
  addMessage(m: FakeMessage): void {
    this.channelMessages(m.channel_id).push(m);
    this.messagesById.set(m.id, m);
  }

  /** By id, in constant time: every reply's API form names the message it replies to (the memory bench has 10,000 channels). */
  findMessage(id: string): FakeMessage | undefined {
    return this.messagesById.get(id);
  }

  /** The message as the Discord API serialises it. */
  toApi(m: FakeMessage): Record<string, unknown> {
    const ref = m.message_reference ? this.findMessage(m.message_reference.message_id) : undefined;
    return {
      id: m.id,
      type: m.type,
      channel_id: m.channel_id,
      ...(m.guild_id ? { guild_id: m.guild_id } : {}),
      author: m.author,
      content: m.content,
      timestamp: m.timestamp,
      edited_timestamp: m.edited_timestamp,
      tts: false,
      mention_everyone: m.mention_everyone,
      mentions: m.mentions,
      mention_roles: m.mention_roles,
      attachments: m.attachments,
      embeds: m.embeds,
      components: m.components,
      pinned: false,
      flags: m.flags,
      ...(m.message_reference ? { message_reference: m.message_reference } : {}),
      ...(ref ? { referenced_message: { ...this.toApi({ ...ref, message_reference: undefined }) } } : {}),
    };
  }
}
