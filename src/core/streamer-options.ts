import type { Logger } from '../log.ts';
import type { ShownMessage } from './inflight.ts';
import type { EditPacer } from './pacer.ts';

/** What a ReplyStreamer is told about the answer it streams: its pacing, texts and callbacks. */
export interface StreamerOptions {
  pacer: EditPacer;
  log: Logger;
  /** First message while nothing has arrived yet (surfaces without typing). */
  placeholder: string;
  /** Shown while the model only reasons. */
  thinkingText: string;
  /** Shown while the call waits in the account's rate queue, with how many are ahead. */
  queuedText?: (ahead: number) => string;
  /** Shown while tools run, given their names ("🔧 weather.get_forecast…"). */
  toolText?: (tools: string) => string;
  /** Also show the tail of the reasoning as a quote while thinking. */
  quoteReasoning?: boolean;
  /** Keep the reasoning (its last `keepReasoningChars`) for the answer's ending (`streaming.reasoning: spoiler`). */
  keepReasoningChars?: number;
  /** Lower bound on per-message edit spacing; the surface may ask for more. */
  minEditIntervalMs: number;
  now?: () => number;
  /**
   * Called after a post, edit or native append landed, with every message of the answer as it shows
   * now (crash recovery: what people saw, never an older snapshot).
   */
  onShown?: (messages: ShownMessage[]) => void;
}
