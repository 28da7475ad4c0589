import type { Config, ModelInfo } from '../config/schema.ts';
import { type Locale, t } from '../i18n.ts';
import type { Logger } from '../log.ts';
import type { ChatResult, ChatTool, QwenClient } from '../qwen/client.ts';
import { QwenError } from '../qwen/errors.ts';
import { StoreError } from '../store/index.ts';
import type { Turn, TurnStatus } from './history.ts';
import { buildPrompt, type TokenCalibrator } from './prompt.ts';
import type { ConversationSettings } from './settings.ts';
import type { ReplyStreamer } from './streamer.ts';

export interface ModelCall {
  qwen: QwenClient;
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
  tools?: ChatTool[];
}

/**
 * Streams the model's answer into the streamer. When DashScope says the input is too long before any
 * text was shown, tries once more with a quarter of the history budget.
 */
export async function callModel(call: ModelCall): Promise<ChatResult> {
  const { config, info, settings, streamer, model } = call;
  const maxOutput = Math.min(config.qwen.maxOutputTokens, info?.maxOutput ?? config.qwen.maxOutputTokens);
  const budget = Math.min(config.history.maxPromptTokens, (info?.context ?? 32_768) - maxOutput);
  const thinking = info?.thinkingOnly ? true : info?.thinking ? (settings.thinking ?? false) : undefined;
  for (let attempt = 0; ; attempt++) {
    const prompt = buildPrompt({
      systemPrompt: call.system,
      turns: call.turns,
      currentImages: call.images,
      budgetTokens: attempt === 0 ? budget : Math.floor(budget / 4),
      withNames: call.withNames,
      ratio: call.calibrator.ratio(model),
    });
    try {
      const stream = call.qwen.streamChat({
        model,
        messages: prompt.messages,
        maxTokens: maxOutput,
        temperature: config.qwen.temperature,
        enableThinking: thinking,
        enableSearch: info?.search && settings.search ? true : undefined,
        tools: call.tools,
        signal: call.signal,
      });
      for (let next = await stream.next(); ; next = await stream.next()) {
        if (next.done) {
          if (next.value.usage)
            call.calibrator.observe(model, prompt.estimatedTokens, next.value.usage.promptTokens);
          return next.value;
        }
        const ev = next.value;
        if (ev.type === 'text') streamer.onText(ev.text);
        else if (ev.type === 'reasoning') streamer.onReasoning(ev.text);
      }
    } catch (err) {
      if (err instanceof QwenError && err.code === 'context_too_long' && attempt === 0 && !streamer.text)
        continue;
      throw err;
    }
  }
}

export interface FailureView {
  status: TurnStatus;
  errorCode?: string;
  errorLine: string;
}

/** How a failed answer ends for the user (one line) and in the log. */
export function describeFailure(
  failure: unknown,
  cause: { restarting?: boolean; stoppedBy?: string; aborted: boolean },
  locale: Locale,
  log: Logger,
): FailureView {
  if (cause.restarting)
    return { status: 'interrupted', errorCode: 'restarting', errorLine: t(locale, 'status.restarting') };
  const qe = failure instanceof QwenError ? failure : undefined;
  if (cause.stoppedBy !== undefined || (qe?.code === 'aborted' && cause.aborted)) {
    return { status: 'stopped', errorLine: t(locale, 'status.stopped', { user: cause.stoppedBy ?? '?' }) };
  }
  const errorCode = qe?.code ?? (failure instanceof StoreError ? 'store' : 'internal');
  const line = qe
    ? qe.userMessage(locale)
    : t(locale, failure instanceof StoreError ? 'error.store' : 'error.internal');
  const fields = qe ? { qwen: qe.toLog() } : { err: failure };
  if (qe?.code === 'auth' || qe?.code === 'overdue')
    log.error(fields, 'model account problem: operator action needed');
  else log.warn(fields, 'answer failed');
  return { status: 'error', errorCode, errorLine: `⚠️ ${line}` };
}
