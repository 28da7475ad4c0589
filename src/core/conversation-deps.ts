import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { DocumentFilesPort } from '../qwen/files.ts';
import type { Transcriber } from '../qwen/transcribe.ts';
import type { Coordinator } from '../store/coordination.ts';
import type { ChatToolbox } from './answer.ts';
import type { CommandSpec } from './commands/registry.ts';
import type { EditPacer } from './pacer.ts';
import type { Clock, ModelPort, StorePort } from './ports.ts';

/** What the conversation service is built from. */
export interface ConversationDeps {
  config: Config;
  store: StorePort;
  /** The model (QwenClient in the app). */
  qwen: ModelPort;
  log: Logger;
  pacer?: EditPacer;
  /** Shared state across instances (Redis); in-process by default. */
  coordinator?: Coordinator;
  clock?: Clock;
  /** Commands from other modules (FAQ), registered with the built-in ones. */
  extraCommands?: CommandSpec[];
  metrics?: Metrics;
  /** Tools the model may call in chat (the FAQ). */
  toolbox?: ChatToolbox;
  /** DashScope's Files API: long documents go to qwen-long (`documents`); none, no documents. */
  files?: DocumentFilesPort;
  /** The speech model voice messages are transcribed by (none: recordings get the "voice off" line). */
  transcriber?: Transcriber;
}
