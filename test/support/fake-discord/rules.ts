/**
 * Discord's rules as the fake applies them: message validation (2,000 characters, no empty messages),
 * who a message would ping given its allowed_mentions, application command validation, and the wire
 * shapes of channels and errors.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { componentsProblem } from './components.ts';
import type { FakeChannel, FakeMessage, FakeState, FakeUser } from './state.ts';

export type Body = Record<string, unknown>;
export type Reply = { status: number; body?: unknown };

export const MAX_CONTENT = 2000;

/** Who the message pings given its allowed_mentions (absent: everything mentioned pings). */
export function applyPings(s: FakeState, m: FakeMessage): void {
  const am = m.allowed_mentions as { parse?: string[]; users?: string[] } | undefined;
  const parse = am ? (am.parse ?? []) : ['users', 'roles', 'everyone'];
  const users = am?.users ?? [];
  m.mention_everyone = parse.includes('everyone') && /@(everyone|here)/.test(m.content);
  const roles = (am as { roles?: string[] } | undefined)?.roles ?? [];
  m.mention_roles = [...m.content.matchAll(/<@&(\d+)>/g)]
    .map((x) => x[1] ?? '')
    .filter((id) => parse.includes('roles') || roles.includes(id));
  const ids = [...m.content.matchAll(/<@!?(\d+)>/g)].map((x) => x[1] ?? '');
  m.mentions = ids
    .filter((id) => parse.includes('users') || users.includes(id))
    .map((id) => s.users.get(id))
    .filter((u): u is FakeUser => u !== undefined);
}

export function validate(body: Body, creating: boolean): Reply | undefined {
  const content = body.content;
  if (content !== undefined && content !== null && typeof content !== 'string') {
    return { status: 400, body: formError('content', 'BASE_TYPE_STRING', 'Must be a string.') };
  }
  if (typeof content === 'string' && [...content].length > MAX_CONTENT) {
    return {
      status: 400,
      body: formError('content', 'BASE_TYPE_MAX_LENGTH', `Must be ${MAX_CONTENT} or fewer in length.`),
    };
  }
  const components = componentsProblem(body.components);
  if (components) return components;
  const hasSomething =
    (typeof content === 'string' && content.length > 0) ||
    (Array.isArray(body.embeds) && body.embeds.length > 0) ||
    (Array.isArray(body.components) && body.components.length > 0);
  if (creating && !hasSomething)
    return { status: 400, body: { message: 'Cannot send an empty message', code: 50006 } };
  return undefined;
}

export function commandProblem(c: Record<string, unknown>): string | undefined {
  // User and message commands (types 2, 3): 1-32 characters, spaces and capitals allowed, no description.
  if (c.type === 2 || c.type === 3) {
    if (typeof c.name !== 'string' || !/^[-_ \p{L}\p{N}]{1,32}$/u.test(c.name))
      return `bad name ${String(c.name)}`;
    if (c.description !== undefined && c.description !== '')
      return `context menu ${c.name} has a description`;
    if (c.options !== undefined) return `context menu ${c.name} has options`;
    return undefined;
  }
  if (
    typeof c.name !== 'string' ||
    !/^[-_\p{L}\p{N}]{1,32}$/u.test(c.name) ||
    c.name !== c.name.toLowerCase()
  ) {
    return `bad command name ${String(c.name)}`;
  }
  if (typeof c.description !== 'string' || c.description.length < 1 || c.description.length > 100) {
    return `bad description for ${c.name}`;
  }
  const options = (c.options as Array<Record<string, unknown>> | undefined) ?? [];
  if (options.length > 25) return `too many options for ${c.name}`;
  let seenOptional = false;
  for (const o of options) {
    if (typeof o.name !== 'string' || !/^[-_\p{L}\p{N}]{1,32}$/u.test(o.name))
      return `bad option name in ${c.name}`;
    if (typeof o.description !== 'string' || o.description.length < 1 || o.description.length > 100) {
      return `bad option description ${c.name}.${o.name}`;
    }
    if (o.required && seenOptional) return `required option after optional in ${c.name}`;
    if (!o.required) seenOptional = true;
    if (o.autocomplete && Array.isArray(o.choices) && o.choices.length > 0)
      return `autocomplete with choices in ${c.name}`;
    if (Array.isArray(o.choices) && o.choices.length > 25) return `too many choices in ${c.name}.${o.name}`;
  }
  return undefined;
}

export function channelApi(ch: FakeChannel): Record<string, unknown> {
  return {
    id: ch.id,
    type: ch.type,
    ...(ch.name ? { name: ch.name } : {}),
    ...(ch.guild_id ? { guild_id: ch.guild_id } : {}),
    ...(ch.parent_id ? { parent_id: ch.parent_id } : {}),
    ...(ch.recipient ? { recipients: [ch.recipient] } : {}),
    ...(ch.type === 11 || ch.type === 12
      ? {
          owner_id: ch.recipient?.id,
          thread_metadata: {
            archived: false,
            auto_archive_duration: 60,
            archive_timestamp: new Date().toISOString(),
            locked: false,
          },
          message_count: 0,
          member_count: 1,
        }
      : {}),
    position: 0,
    permission_overwrites: [],
  };
}

export function unknown(code: number, message: string): Reply {
  return { status: 404, body: { message, code } };
}

export function formError(field: string, code: string, message: string): Record<string, unknown> {
  const errors: Record<string, unknown> = {};
  let node = errors;
  const parts = field.split('.');
  parts.forEach((p, i) => {
    const next: Record<string, unknown> = i === parts.length - 1 ? { _errors: [{ code, message }] } : {};
    node[p] = next;
    node = next;
  });
  return { message: 'Invalid Form Body', code: 50035, errors };
}

export function parseBody(raw: string, type: string): Body {
  if (type.startsWith('multipart/form-data')) {
    const m = /name="payload_json"[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n([\s\S]*?)\r\n--/.exec(raw);
    return m?.[1] ? (JSON.parse(m[1]) as Body) : {};
  }
  return JSON.parse(raw) as Body;
}

export function send(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
