/** Lines the core posts itself: refusals, and private command results typed in a channel. */
import type { Logger } from '../log.ts';
import type { TurnOutcome } from './service.ts';
import type { ReplySurface } from './types.ts';

/** Posts the refusal line (a failure to post is logged) and returns the refused outcome. */
export async function refuse(
  surface: ReplySurface,
  reason: string,
  line: string,
  log: Logger,
): Promise<TurnOutcome> {
  await surface.post(line).catch((err: unknown) => log.warn({ err }, 'could not deliver refusal line'));
  return { status: 'refused', reason, line };
}

/** A private result typed in a channel: to the caller alone, or a public pointer to the slash command. */
export async function postPrivately(
  surface: ReplySurface,
  text: string,
  pointer: string,
  log: Logger,
): Promise<void> {
  if (surface.postPrivate) {
    try {
      return await surface.postPrivate(text);
    } catch (err) {
      log.warn({ err }, 'could not reply privately; pointing to the slash command instead');
    }
  }
  await surface.post(pointer);
}
