import { type CommandSpeller, type Locale, slashCommand, spellCommandRefs, t } from '../../i18n.ts';
import type { Logger } from '../../log.ts';
import { QwenError } from '../../qwen/errors.ts';
import { StoreError } from '../../store/index.ts';
import type { CommandInvocation, CommandResult, ConversationRef, OptionType, OptionValue } from '../types.ts';
import { CommandSpelling } from './spelling.ts';

export interface OptionSpec {
  name: string;
  description: string;
  type: OptionType;
  required?: boolean;
  /** Fixed choices (validated; shown as choices on platforms that have them). */
  choices?: string[];
  maxLength?: number;
  /** Takes the rest of the text (only for the last string option). */
  rest?: boolean;
  /** Suggestions while typing (Discord autocomplete). */
  autocomplete?: (partial: string, conversation: ConversationRef) => Promise<string[]> | string[];
}

/** Who may run a command: everyone, admins, or admins except in the caller's own DM. */
export type CommandAccess = 'everyone' | 'admin' | 'admin-outside-dm';

export interface CommandContext {
  invocation: CommandInvocation;
  options: Record<string, OptionValue | undefined>;
  locale: Locale;
  /** Writes a command reference the way the caller's platform types it (`t(locale, key, vars, spell)`). */
  spell: CommandSpeller;
  isAdmin: boolean;
  /**
   * Runs `task` in a conversation's turn (its queue and cross-instance turn), after any answer streaming
   * there. Only for handlers declared `ownTurns`; take one turn at a time, never one inside another.
   */
  inTurn: <T>(conversation: string, task: () => Promise<T>) => Promise<T>;
}

type Options = Record<string, OptionValue | undefined>;

export interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  access: CommandAccess;
  /** Reply only to the invoker where the platform can (the handler may override per result). */
  ephemeral: boolean;
  /** Its ephemeral results hold the caller's own data: never posted in a channel (CommandResult.private). */
  private?: boolean;
  /**
   * Only reads, and cheaply (`/help`, `/usage`, `/model` with no name): answered at once instead of
   * waiting for the answer streaming in the conversation, and not metered (rate limit, daily quota).
   * Everything else runs in the conversation's turn, like a message.
   */
  readOnly?: boolean | ((options: Options) => boolean);
  /** The handler takes the turns it needs itself through `ctx.inTurn` (`/forget` visits many). */
  ownTurns?: boolean;
  handler: (ctx: CommandContext) => Promise<CommandResult>;
}

/** A command checked and parsed, not yet run: the caller decides where it runs. */
export interface PreparedCommand {
  spec?: CommandSpec;
  readOnly: boolean;
  ownTurns: boolean;
  run(inTurn: CommandContext['inTurn']): Promise<CommandResult>;
}

/** `/model [name]`, with the command written by `spell` (Slack: `/qwen model [name]`). */
export function commandUsage(spec: CommandSpec, spell: CommandSpeller = slashCommand): string {
  const opts = spec.options.map((o) => (o.required ? `<${o.name}>` : `[${o.name}]`));
  return [spell(spec.name), ...opts].join(' ');
}

export class CommandRegistry {
  private readonly specs = new Map<string, CommandSpec>();
  /** Per platform, how command references are written in replies. */
  readonly spelling: CommandSpelling;

  constructor(spelling = new CommandSpelling()) {
    this.spelling = spelling;
  }

  add(spec: CommandSpec): this {
    if (!/^[a-z0-9_-]{1,32}$/.test(spec.name))
      throw new Error(`command name "${spec.name}" must be 1-32 lowercase characters`);
    const description = spellCommandRefs(spec.description);
    if (description.length < 1 || description.length > 100) {
      throw new Error(`command /${spec.name}: description must be 1-100 characters`);
    }
    this.specs.set(spec.name, spec);
    return this;
  }

  get(name: string): CommandSpec | undefined {
    return this.specs.get(name);
  }

  list(): CommandSpec[] {
    return [...this.specs.values()];
  }

  /**
   * Checks access and parses the options, at once (no I/O), so the caller can take the conversation's
   * place in line in arrival order; a refusal is a prepared command that only replies. Running it
   * turns every failure of the handler into a short reply.
   */
  prepare(inv: CommandInvocation, ctx: { locale: Locale; isAdmin: boolean; log: Logger }): PreparedCommand {
    const { locale, isAdmin } = ctx;
    const spell = this.spelling.of(inv.conversation.platform);
    const reply = (text: string, spec?: CommandSpec): PreparedCommand => ({
      spec,
      readOnly: true,
      ownTurns: false,
      run: async () => ({ text, ephemeral: true }),
    });
    const spec = this.get(inv.name);
    if (!spec) return reply(t(locale, 'cmd.unknown', { name: inv.name }, spell));
    const needsAdmin =
      spec.access === 'admin' || (spec.access === 'admin-outside-dm' && !inv.conversation.isDM);
    if (needsAdmin && !isAdmin) return reply(t(locale, 'cmd.denied', { name: spec.name }, spell), spec);
    const parsed = this.parse(spec, inv, locale, spell);
    if ('error' in parsed) return reply(parsed.error, spec);
    const { options } = parsed;
    const readOnly = typeof spec.readOnly === 'function' ? spec.readOnly(options) : spec.readOnly === true;
    return {
      spec,
      readOnly,
      ownTurns: !readOnly && spec.ownTurns === true,
      run: (inTurn) =>
        this.execute(spec, { invocation: inv, options, locale, spell, isAdmin, inTurn }, ctx.log),
    };
  }

  private async execute(spec: CommandSpec, cmd: CommandContext, log: Logger): Promise<CommandResult> {
    const { locale } = cmd;
    try {
      const result = await spec.handler(cmd);
      return { ephemeral: spec.ephemeral, ...(spec.private ? { private: true } : {}), ...result };
    } catch (err) {
      log.warn({ err, command: spec.name }, 'command failed');
      if (err instanceof QwenError) return { text: `⚠️ ${err.userMessage(locale)}`, ephemeral: true };
      return {
        text: `⚠️ ${t(locale, err instanceof StoreError ? 'error.store' : 'error.internal')}`,
        ephemeral: true,
      };
    }
  }

  /** Suggestions for an option being typed (Discord autocomplete allows 25). */
  async suggestions(
    command: string,
    option: string,
    partial: string,
    conversation: ConversationRef,
  ): Promise<string[]> {
    const opt = this.get(command)?.options.find((o) => o.name === option);
    if (!opt) return [];
    const suggested = opt.autocomplete
      ? await opt.autocomplete(partial, conversation)
      : (opt.choices?.filter((c) => c.includes(partial)) ?? []);
    return suggested.slice(0, 25);
  }

  usage(spec: CommandSpec, spell: CommandSpeller = slashCommand): string {
    return commandUsage(spec, spell);
  }

  /**
   * Turns an invocation into typed option values. Text arguments are positional in declaration order,
   * or `name:value` (or `name value` for an option with choices) when `name` is one of the command's
   * declared options; any other `word:…` is plain
   * text (`/system note: answer in French`, `/faq https://…`). Quotes group words. Returns an error
   * line for the user instead of throwing.
   */
  parse(
    spec: CommandSpec,
    inv: CommandInvocation,
    locale: Locale,
    spell: CommandSpeller = slashCommand,
  ): { options: Record<string, OptionValue | undefined> } | { error: string } {
    const fail = (problem: string) => ({
      error: t(locale, 'cmd.bad_arg', { name: spec.name, problem, usage: this.usage(spec, spell) }, spell),
    });
    const raw: Record<string, string | OptionValue | undefined> = { ...(inv.options ?? {}) };
    // Option name → the undeclared `word` of a `word:…` token that filled it positionally. If that
    // value is then rejected, the person most likely meant an option: say "unknown option word".
    const lookalike = new Map<string, string>();
    if (inv.rawArgs !== undefined && inv.rawArgs.trim() !== '') {
      const tokens = tokenize(inv.rawArgs.trim());
      const positional = spec.options;
      let next = 0;
      // `mode all` as typed for `mode:all`: an option with choices named by a bare word, then its value.
      let namedBefore: OptionSpec | undefined;
      for (const token of tokens) {
        if (namedBefore) {
          raw[namedBefore.name] = token.value;
          namedBefore = undefined;
          continue;
        }
        const named = token.quoted ? null : /^([a-z_][a-z0-9_-]*):(.*)$/s.exec(token.value);
        const declared = named && spec.options.find((o) => o.name === named[1]);
        if (declared) {
          raw[declared.name] = named[2] ?? '';
          continue;
        }
        const byName = token.quoted
          ? undefined
          : spec.options.find((o) => o.name === token.value && o.choices && !o.choices.includes(o.name));
        if (byName && raw[byName.name] === undefined && token !== tokens.at(-1)) {
          namedBefore = byName;
          continue;
        }
        while (next < positional.length && raw[positional[next]?.name ?? ''] !== undefined) next++;
        const opt = positional[next];
        if (!opt) {
          if (named) return fail(t(locale, 'cmd.unknown_option', { option: named[1] ?? '' }));
          return fail(t(locale, 'cmd.too_many_args'));
        }
        if (opt.rest) {
          raw[opt.name] = inv.rawArgs.trim().slice(token.start);
          break;
        }
        raw[opt.name] = token.value;
        if (named) lookalike.set(opt.name, named[1] ?? '');
        next++;
      }
    }
    const options: Record<string, OptionValue | undefined> = {};
    for (const opt of spec.options) {
      const value = raw[opt.name];
      if (value === undefined || value === '') {
        if (opt.required) return fail(t(locale, 'cmd.missing_arg', { option: opt.name }));
        continue;
      }
      const typed = coerce(opt, value);
      const rejected =
        typed === undefined || (typeof typed === 'string' && opt.choices && !opt.choices.includes(typed));
      const meant = lookalike.get(opt.name);
      if (rejected && meant !== undefined) return fail(t(locale, 'cmd.unknown_option', { option: meant }));
      if (typed === undefined) {
        const key =
          opt.type === 'integer'
            ? 'cmd.not_integer'
            : opt.type === 'boolean'
              ? 'cmd.not_boolean'
              : 'cmd.not_number';
        return fail(t(locale, key, { option: opt.name }));
      }
      if (typeof typed === 'string') {
        if (opt.maxLength !== undefined && typed.length > opt.maxLength) {
          return fail(t(locale, 'cmd.too_long', { option: opt.name, max: opt.maxLength }));
        }
        if (opt.choices && !opt.choices.includes(typed)) {
          return fail(t(locale, 'cmd.not_choice', { option: opt.name, choices: opt.choices.join(', ') }));
        }
      }
      options[opt.name] = typed;
    }
    return { options };
  }
}

function coerce(opt: OptionSpec, value: string | OptionValue): OptionValue | undefined {
  if (opt.type === 'string') return String(value);
  if (opt.type === 'boolean') {
    if (typeof value === 'boolean') return value;
    const v = String(value).toLowerCase();
    if (['true', 'yes', 'on', '1'].includes(v)) return true;
    if (['false', 'no', 'off', '0'].includes(v)) return false;
    return undefined;
  }
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(n) || String(value).trim() === '') return undefined;
  if (opt.type === 'integer' && !Number.isInteger(n)) return undefined;
  return n;
}

interface Token {
  value: string;
  start: number;
  quoted: boolean;
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const re = /"([^"]*)"|'([^']*)'|“([^”]*)”|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const quoted = m[4] === undefined;
    out.push({ value: m[1] ?? m[2] ?? m[3] ?? m[4] ?? '', start: m.index, quoted });
  }
  return out;
}

/** Splits "/name rest" into name and raw args; undefined when the text is not a command. */
export function parseCommandText(text: string): { name: string; rawArgs: string } | undefined {
  const m = /^\/([a-z0-9_-]{1,32})(?:\s+([\s\S]*))?$/i.exec(text.trim());
  if (!m) return undefined;
  return { name: (m[1] ?? '').toLowerCase(), rawArgs: m[2] ?? '' };
}
