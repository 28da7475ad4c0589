/**
 * What every platform adapter does the same way around the core: hand a message over and still answer
 * when the core threw instead of ending the reply ("something failed" line), run a slash command with
 * that line as its reply when it throws, and count and log the platform's 429s.
 */
import type { ChatService, TurnOutcome } from './core/service.ts';
import type { CommandInvocation, CommandResult, ReplySurface } from './core/types.ts';
import { type Locale, t } from './i18n.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

/** The adapter's platform, core and observability, as the shared glue needs them. */
export interface PlatformGlue {
  platform: string;
  service: ChatService;
  log: Logger;
  metrics?: Metrics | undefined;
}

/**
 * Waits for the core's answer to one message. The core ends every reply itself; if it threw, the person
 * still gets the "something failed" line rather than silence. Resolves undefined then.
 */
export async function settleAnswer(
  glue: PlatformGlue,
  answer: Promise<TurnOutcome>,
  surface: Pick<ReplySurface, 'post'>,
  locale: Locale,
  context: Record<string, unknown>,
): Promise<TurnOutcome | undefined> {
  try {
    const outcome = await answer;
    glue.log.debug({ ...context, status: outcome.status }, 'message handled');
    return outcome;
  } catch (err) {
    glue.log.error({ err, ...context }, 'chat service failed');
    await surface
      .post(t(locale, 'error.internal'))
      .catch((postErr: unknown) => glue.log.warn({ err: postErr }, 'could not post the error line'));
    return undefined;
  }
}

/** A command's reply, or the "something failed" line (`failed`) when the core threw. */
export type CommandReply = CommandResult & { failed?: true };

export async function runPlatformCommand(
  glue: PlatformGlue,
  invocation: CommandInvocation,
  locale: Locale,
): Promise<CommandReply> {
  try {
    return await glue.service.runCommand(invocation);
  } catch (err) {
    glue.log.error({ err, command: invocation.name }, 'slash command failed');
    return { text: t(locale, 'error.internal'), failed: true };
  }
}

/** The platform's client waits a 429 out itself; operators still want to see and count it. */
export function countRateLimit(glue: PlatformGlue, fields: Record<string, unknown>): void {
  glue.metrics?.platformRateLimits.inc({ platform: glue.platform });
  glue.log.warn(fields, `${glue.platform} rate limited`);
}
