import type { Config, ModelInfo } from '../config/schema.ts';
import { type Audience, type CommandSpeller, type Locale, t } from '../i18n.ts';
import type { Logger } from '../log.ts';
import type { ChatMessage, ChatResult, ChatTool, ToolCall } from '../qwen/client.ts';
import { QwenError } from '../qwen/errors.ts';
import { streamWithFallback } from '../qwen/fallback.ts';
import { StoreError } from '../store/index.ts';
import type { LoadedToolSettings, ToolScope } from '../tools/types.ts';
import { BilledUsage } from './billing.ts';
import type { Refusal, Turn, TurnStatus } from './history.ts';
import type { ModelPort } from './ports.ts';
import { buildPrompt, estimateTokens, type TokenCalibrator } from './prompt.ts';
import type { ConversationSettings } from './settings.ts';
import type { ReplyStreamer } from './streamer.ts';

/** What a round of tool calls is given: the answer's Stop signal, and where to show what runs. */
export interface ToolRunContext {
  signal: AbortSignal;
  /** Text the model wrote before asking for the tools (kept in the assistant message). */
  text?: string;
  /**
   * The tools running now, as people see their names (`weather.get_forecast`); empty once none is.
   * `failed`: tools of this round whose call failed (an error, bad arguments, the answer stopped).
   */
  onRunning(tools: string[], failed: string[]): void;
}

export interface ToolRound {
  /** The assistant's tool calls, then one tool message per call, to append before asking the model again. */
  messages: ChatMessage[];
  /** Tools that gave the model something (for the answer's "used" line), as people see their names. */
  used: string[];
}

/** The tools one answer may offer (what the scope is allowed), and how to run the model's calls. */
export interface AnswerTools {
  definitions: ChatTool[];
  /** Never rejects: every failure is a tool result the model reads. */
  run(calls: ToolCall[], ctx: ToolRunContext): Promise<ToolRound>;
}

/** Tools the model may call during a chat answer (the FAQ's `search_faq`, MCP servers' tools). */
export interface ChatToolbox {
  /** `loaded`: the settings the answer already read, so deciding which servers it may use reads nothing. */
  forScope(scope: ToolScope, loaded?: LoadedToolSettings): Promise<AnswerTools>;
}

/** Output tokens an answer is assumed to take from the model's TPM before its `usage` is known. */
const EXPECTED_OUTPUT_TOKENS = 1024;

export interface ModelCall {
  qwen: ModelPort;
  config: Config;
  calibrator: TokenCalibrator;
  model: string;
  info: ModelInfo | undefined;
  settings: ConversationSettings;
  system: string;
  turns: Turn[];
  images: string[];
  withNames: boolean;
  signal: AbortSignal;
  streamer: ReplyStreamer;
  toolbox?: ChatToolbox;
  /** Who asks where: decides which tools are offered. */
  scope?: ToolScope;
  /** The workspace defaults read with `settings`: with them the tool switches need no read of their own. */
  workspaceSettings?: ConversationSettings;
  /** Adds up what every model call of this answer is billed, also when the answer fails or is stopped. */
  billed?: BilledUsage;
  /** `fileid://…` of the conversation's documents: a second system message, after the system prompt. */
  documents?: string;
}

export interface ModelAnswer extends ChatResult {
  /** Tools that contributed to the answer, as people see their names (`faq`, `weather.get_forecast`). */
  usedTools: string[];
}

/**
 * Streams the model's answer into the streamer. Tool calls are run and answered (`tools.maxSteps`
 * rounds at most, then the model has to answer in text); when DashScope says the input is too long before any text was shown, tries once more with a
 * quarter of the history budget.
 */
export async function callModel(call: ModelCall): Promise<ModelAnswer> {
  const { config, info, settings, streamer, model } = call;
  const maxOutput = Math.min(config.qwen.maxOutputTokens, info?.maxOutput ?? config.qwen.maxOutputTokens);
  const budget = Math.min(config.history.maxPromptTokens, (info?.context ?? 32_768) - maxOutput);
  // Sent explicitly for every model that can think: newer hybrid models think (and bill) by default.
  const thinking = info?.thinkingOnly ? true : info?.thinking ? (settings.thinking ?? false) : undefined;
  const level = settings.thinkingLevel;
  const thinkingBudget =
    thinking && level && level !== 'max' ? config.qwen.thinkingBudgets[level] : undefined;
  const offered =
    info?.tools && call.toolbox && call.scope
      ? await call.toolbox.forScope(
          call.scope,
          call.workspaceSettings ? { settings: call.settings, workspace: call.workspaceSettings } : undefined,
        )
      : undefined;
  const tools = offered?.definitions ?? [];
  const maxRounds = config.tools.maxSteps;
  const extra: ChatMessage[] = [];
  const usedTools: string[] = [];
  let rounds = 0;
  let shrink = false;
  const billed = call.billed ?? new BilledUsage();
  for (;;) {
    const ratio = call.calibrator.ratio(model);
    const prompt = buildPrompt({
      systemPrompt: call.system,
      turns: call.turns,
      currentImages: call.images,
      budgetTokens: shrink ? Math.floor(budget / 4) : budget,
      withNames: call.withNames,
      ratio,
      ...(info?.cache === 'explicit'
        ? {
            cache: {
              leadTokens: toolTokens(tools) * ratio,
              windowFull: call.turns.length >= config.history.maxTurns,
            },
          }
        : {}),
    });
    const promptEstimate =
      Math.ceil(prompt.estimatedTokens * ratio) +
      extra.reduce((n, m) => n + estimateTokens(JSON.stringify(m.content ?? '')), 0);
    let result: ChatResult;
    try {
      result = await streamOnce(call, billed, promptEstimate, {
        messages: [...withDocuments(prompt.messages, call.documents), ...extra],
        maxTokens: maxOutput,
        enableThinking: thinking,
        thinkingBudget,
        // Offered until the rounds run out; then the model has to answer in text.
        tools: tools.length && rounds < maxRounds ? tools : undefined,
      });
    } catch (err) {
      if (err instanceof QwenError && err.code === 'context_too_long' && !shrink && !streamer.text) {
        shrink = true;
        continue;
      }
      throw err;
    }
    if (result.usage && extra.length === 0)
      call.calibrator.observe(model, prompt.estimatedTokens, result.usage.promptTokens);
    if (!result.toolCalls.length || !offered || rounds >= maxRounds) return { ...result, usedTools };
    rounds++;
    const ran = await offered.run(result.toolCalls, {
      signal: call.signal,
      text: result.text,
      onRunning: (names, failed) => streamer.onTools(names, failed),
    });
    extra.push(...ran.messages);
    for (const name of ran.used) if (!usedTools.includes(name)) usedTools.push(name);
  }
}

/** qwen-long reads documents from a system message of their own, right after the system prompt. */
function withDocuments(messages: ChatMessage[], documents: string | undefined): ChatMessage[] {
  if (!documents) return messages;
  const lead = messages[0]?.role === 'system' ? 1 : 0;
  return [...messages.slice(0, lead), { role: 'system', content: documents }, ...messages.slice(lead)];
}

/** Tool schemas precede the messages in the model's input, so they are part of the cached prefix. */
function toolTokens(tools: ChatTool[]): number {
  return tools.length ? estimateTokens(JSON.stringify(tools)) : 0;
}

async function streamOnce(
  call: ModelCall,
  billed: BilledUsage,
  promptEstimate: number,
  req: {
    messages: ChatMessage[];
    maxTokens: number;
    enableThinking?: boolean;
    thinkingBudget?: number;
    tools?: ChatTool[];
  },
): Promise<ChatResult> {
  const chain = [call.model, ...(call.info?.fallback ?? [])];
  const stream = streamWithFallback(
    call.qwen,
    {
      messages: req.messages,
      maxTokens: req.maxTokens,
      temperature: call.config.qwen.temperature,
      enableThinking: req.enableThinking,
      thinkingBudget: req.thinkingBudget,
      enableSearch: call.info?.search && call.settings.search ? true : undefined,
      tools: req.tools,
      signal: call.signal,
      // Most answers are far shorter than the output budget; `usage` corrects the figure afterwards.
      estimatedTokens: promptEstimate + Math.min(req.maxTokens, EXPECTED_OUTPUT_TOKENS),
      onQueued: (ahead) => call.streamer.onQueued(ahead),
    },
    chain,
  );
  try {
    for (let next = await stream.next(); ; next = await stream.next()) {
      if (next.done) {
        billed.completed(promptEstimate, next.value);
        return next.value;
      }
      const ev = next.value;
      if (ev.type === 'text') call.streamer.onText(ev.text);
      else if (ev.type === 'reasoning') call.streamer.onReasoning(ev.text);
      // An attempt that opened a stream and then failed before its first token is billed too.
      else if (ev.type === 'retry') billed.failed(promptEstimate, ev.error.partial);
    }
  } catch (err) {
    if (err instanceof QwenError) billed.failed(promptEstimate, err.partial);
    throw err;
  }
}

export interface FailureView {
  status: TurnStatus;
  errorCode?: string;
  errorLine: string;
  /** Content moderation refused the input or cut the output: the turn is marked and left out of prompts. */
  refused?: Refusal;
}

/**
 * Input inspection refuses the request itself (HTTP 400 before any byte); output inspection cuts a stream
 * that had started, as an error frame without an HTTP status.
 */
export function refusalOf(err: QwenError): Refusal | undefined {
  if (err.code !== 'moderated') return undefined;
  return err.status === undefined || /output/i.test(err.message) ? 'output' : 'input';
}

/** How a failed answer ends for the user (one line) and in the log. */
export function describeFailure(
  failure: unknown,
  cause: { restarting?: boolean; turnLost?: boolean; stoppedBy?: string; aborted: boolean },
  locale: Locale,
  log: Logger,
  audience: Audience = 'user',
  spell?: CommandSpeller,
): FailureView {
  if (cause.restarting)
    return { status: 'interrupted', errorCode: 'restarting', errorLine: t(locale, 'status.restarting') };
  if (cause.turnLost)
    return { status: 'interrupted', errorCode: 'turn_lost', errorLine: t(locale, 'turn.lost') };
  const qe = failure instanceof QwenError ? failure : undefined;
  if (cause.stoppedBy !== undefined || (qe?.code === 'aborted' && cause.aborted)) {
    return { status: 'stopped', errorLine: t(locale, 'status.stopped', { user: cause.stoppedBy ?? '?' }) };
  }
  const errorCode = qe?.code ?? (failure instanceof StoreError ? 'store' : 'internal');
  const line = qe
    ? qe.userMessage(locale, audience, spell)
    : t(locale, failure instanceof StoreError ? 'error.store' : 'error.internal');
  const fields = qe ? { qwen: qe.toLog() } : { err: failure };
  if (qe && ['auth', 'overdue', 'quota_exhausted', 'endpoint_not_found'].includes(qe.code))
    log.error(fields, 'model account problem: operator action needed');
  else log.warn(fields, 'answer failed');
  const refused = qe && refusalOf(qe);
  return { status: 'error', errorCode, errorLine: `⚠️ ${line}`, ...(refused ? { refused } : {}) };
}
