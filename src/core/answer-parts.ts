/** What one answer needs from the conversation service, and what it carries from one phase to the next. */
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { ChatToolbox } from './answer.ts';
import type { prepareAttachments } from './attachments.ts';
import type { CommandSpelling } from './commands/spelling.ts';
import { type DocumentRecord, DocumentStore } from './documents.ts';
import type {
  AnswerSlot,
  HistoryMeta,
  HistoryStore,
  Refusal,
  StoredTurn,
  Turn,
  TurnStatus,
} from './history.ts';
import type { InflightTracker } from './inflight.ts';
import type { EditPacer } from './pacer.ts';
import type { ModelPort } from './ports.ts';
import type { UserIndexStore } from './privacy.ts';
import type { TokenCalibrator } from './prompt.ts';
import type { TurnOutcome } from './service.ts';
import type { ConversationSettings, SettingsStore } from './settings.ts';
import type { ReplyStreamer } from './streamer.ts';
import { readTurnStart, type TurnStart } from './turn-store.ts';
import { type ConversationRef, conversationKey, type IncomingMessage } from './types.ts';
import type { UsageStore } from './usage.ts';

/** An answer streaming right now: what Stop and shutdown need to reach it. */
export interface ActiveAnswer {
  streamer: ReplyStreamer;
  controller: AbortController;
  askerId: string;
  /** The id of the message being answered (a terminal's Ctrl-C stops the answer by it). */
  questionId: string;
  stoppedBy?: string;
  /** Set when the bot itself cut the answer short (shutdown). */
  restarting?: boolean;
  /** Set when the conversation's shared turn was lost (Redis unreachable for a heartbeat). */
  turnLost?: boolean;
}

/** What one answer needs from the conversation service. */
export interface AnswerDeps {
  config: Config;
  qwen: ModelPort;
  log: Logger;
  pacer: EditPacer;
  now: () => number;
  calibrator: TokenCalibrator;
  history: HistoryStore;
  settings: SettingsStore;
  users: UserIndexStore;
  inflight: InflightTracker;
  usage: UsageStore;
  metrics?: Metrics;
  toolbox?: ChatToolbox;
  /** Long documents (qwen-long, Files API); absent when there is no Files API to upload to. */
  documents?: DocumentStore;
  modelFor: (
    ref: ConversationRef,
    resolved?: ConversationSettings,
    workspace?: ConversationSettings,
  ) => Promise<string>;
  /** How each platform writes command references (the error lines name `/reset`). */
  spelling: CommandSpelling;
  /** The service's set of answers streaming or waiting for their lane; this answer is in it until it ends. */
  active: Set<ActiveAnswer>;
  /**
   * Runs `task` in the conversation's turn (storing the answer checks and fills its slot there); `lost`
   * is the shared turn's signal, aborted when another instance may hold the turn now.
   */
  inTurn: <T>(conversation: string, task: (lost?: AbortSignal) => Promise<T>) => Promise<T>;
}

/** What the arrival phase settled: the prompt's parts but its turns, which are read when the answer starts. */
export interface Question {
  settings: ConversationSettings;
  /** The workspace defaults, read in the same batch as `settings`. */
  workspace: ConversationSettings;
  system: string;
  turn: Turn;
  slot: AnswerSlot;
  /** The history's meta as the question was stored (the prompt's turns are read in one batch with it). */
  meta: HistoryMeta;
  /** The turns before the question, read beside its write (undefined: read them after it). */
  earlier?: StoredTurn[];
  images: Awaited<ReturnType<typeof prepareAttachments>>['images'];
  /** Documents to upload when the answer starts (their status line needs the reply). */
  documents: IncomingMessage['attachments'];
  /** The conversation's documents as the question's batched read found them (undefined: no Files API). */
  listedDocuments?: DocumentRecord[];
}

export interface Prompt extends Question {
  turns: Turn[];
  /** The conversation's documents the model reads (`fileid://`). */
  docs: DocumentRecord[];
}

export interface Ending {
  status: TurnStatus;
  errorCode?: string;
  errorLine?: string;
  refused?: Refusal;
}

/** What the service reports of an answer that ended this way. */
export function outcomeOf(ending: Ending, text: string, model: string): TurnOutcome {
  const { status, errorCode, errorLine } = ending;
  if (status === 'error' || status === 'interrupted')
    return { status: 'error', text, model, errorCode: errorCode ?? 'internal', errorLine: errorLine ?? '' };
  if (status === 'stopped') return { status: 'stopped', text, model };
  return { status: 'answered', text, model };
}

/**
 * The conversation's one batched read before an answer: its settings, the history meta and (when
 * documents are on) its documents list. Call in the conversation's turn.
 */
export function readAnswerStart(deps: AnswerDeps, conversation: ConversationRef): Promise<TurnStart> {
  const docsKey = deps.documents ? [DocumentStore.key(conversationKey(conversation))] : [];
  return readTurnStart(deps.settings, conversation, docsKey);
}
