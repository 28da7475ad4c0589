/** A conversation's turn did not come within the deadline (`store.turnTimeoutSec`); the place was given up. */
export class TurnTimeoutError extends Error {
  readonly code = 'turn_timeout';
  constructor(conversation: string, timeoutMs: number) {
    super(`no turn in conversation ${conversation} within ${timeoutMs / 1000} s`);
  }
}

/**
 * A held turn that may now be someone else's: its heartbeat could not be renewed for (almost) a
 * heartbeat, or another instance already moved the line past it.
 */
export class TurnLostError extends Error {
  readonly code = 'turn_lost';
}
