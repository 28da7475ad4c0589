/**
 * A DashScope (compatible mode) simulator on 127.0.0.1: streaming and plain chat, reasoning and
 * tool-call chunks, embeddings, and scripted faults, following shared/docs/platform-facts.md.
 * Every request is recorded so tests can assert what the bot sent. It ships with the product: `npm run
 * demo` chats with it (paced like a real model); tests use it unpaced.
 */

import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { text as readText } from 'node:stream/consumers';
import { handleAsr } from './sim-asr.ts';
import { SIM_CACHE_MAX_MARKERS, SimExplicitCache, simUsage, tooManyMarkers } from './sim-cache.ts';
import { SimFiles } from './sim-files.ts';
import { SimRateLimits } from './sim-limits.ts';
import { isTranslationModel, simTranslation, translationProblem } from './sim-translation.ts';
import type { ChatBody, ChatStep, DashScopeSim, RecordedRequest, SimError, SimOptions } from './sim-types.ts';
import {
  countTokens,
  DEFAULT_MODELS,
  delay,
  embeddings,
  lastUserText,
  pieces,
  sendError,
  splitWriter,
  streamTiming,
  withinBudget,
} from './sim-wire.ts';

export * from './sim-types.ts';
export { lastUserText };

/**
 * Content moderation, as DashScope does it: a request is refused (400 `data_inspection_failed`) when ANY
 * of its messages — system, user or assistant, current or past — contains the input trigger; an answer
 * whose text contains the output trigger streams up to it and is then cut by an error frame.
 */
export const SIM_INPUT_TRIGGER = '<<flag:input>>';
export const SIM_OUTPUT_TRIGGER = '<<flag:output>>';
/** DashScope's refusal of a request by content moderation (also for tests to script). */
export const SIM_MODERATION_REFUSAL: SimError = {
  status: 400,
  code: 'data_inspection_failed',
  message: 'Input data may contain inappropriate content.',
};

const STREAM_ONLY = /^(qwq-|qwen3-\d)/;

export async function startDashScopeSim(options: SimOptions = {}): Promise<DashScopeSim> {
  const steps: ChatStep[] = [];
  const requests: RecordedRequest[] = [];
  const models = new Set(options.models ?? DEFAULT_MODELS);
  let responder = options.responder ?? ((body: ChatBody) => `Echo: ${lastUserText(body)}`);
  const sockets = new Set<Socket>();
  let requestSeq = 0;
  const rates = new SimRateLimits({
    limits: options.rateLimits ?? {},
    retryAfter: options.retryAfter,
    now: options.now,
  });
  const cache = new SimExplicitCache(options.now);
  const files = new SimFiles({ enabled: options.files });

  const server = createServer(async (req, res) => {
    if (SimFiles.handles(req.url)) {
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: {} });
      const key = options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`;
      return files.handle(req, res, `sim-${++requestSeq}`, !key);
    }
    const raw = await readText(req);
    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      return sendError(res, {
        status: 400,
        code: 'invalid_parameter_error',
        message: 'body is not valid JSON',
      });
    }
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body,
      receivedAt: performance.now(),
    };
    requests.push(recorded);
    const requestId = `sim-${++requestSeq}`;
    res.setHeader('x-request-id', requestId);
    if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendError(
        res,
        { status: 401, code: 'invalid_api_key', message: 'Incorrect API key provided.' },
        requestId,
      );
    }
    if (req.method === 'POST' && req.url?.endsWith('/compatible-mode/v1/chat/completions')) {
      return chat(body as ChatBody, res, requestId, recorded);
    }
    if (req.method === 'POST' && req.url?.endsWith('/compatible-mode/v1/embeddings')) {
      return embeddings(body, res, requestId);
    }
    sendError(
      res,
      { status: 404, code: 'NotFound', message: `no route ${req.method} ${req.url}` },
      requestId,
    );
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function chat(
    body: ChatBody,
    res: ServerResponse,
    requestId: string,
    recorded: RecordedRequest,
  ): Promise<void> {
    if (!body.model || !Array.isArray(body.messages) || body.messages.length === 0) {
      return sendError(res, {
        status: 400,
        code: 'invalid_parameter_error',
        message: 'model and messages are required',
      });
    }
    if (!models.has(body.model)) {
      return sendError(res, {
        status: 404,
        code: 'model_not_found',
        message: `The model \`${body.model}\` does not exist.`,
      });
    }
    // Speech models, and audio sent to a chat model (sim-asr.ts).
    if (handleAsr(body, res, requestId)) return;
    const translating = isTranslationModel(body.model);
    const mtProblem = translating ? translationProblem(body) : undefined;
    if (mtProblem) return sendError(res, mtProblem, requestId);
    const thinking = body.enable_thinking === true || body.model.startsWith('qwq-');
    if (!body.stream && (STREAM_ONLY.test(body.model) || thinking)) {
      return sendError(res, {
        status: 400,
        code: 'invalid_parameter_error',
        message:
          'This model only support stream mode, please enable the stream parameter to access the model.',
      });
    }
    const markers = SimExplicitCache.markers(body);
    if (markers > SIM_CACHE_MAX_MARKERS) return sendError(res, tooManyMarkers(markers), requestId);
    const inputTrigger =
      options.moderation?.input === undefined ? SIM_INPUT_TRIGGER : options.moderation.input;
    if (inputTrigger && body.messages.some((m) => JSON.stringify(m.content ?? '').includes(inputTrigger))) {
      return sendError(res, SIM_MODERATION_REFUSAL, requestId);
    }
    const index = steps.findIndex((s) => !s.match || s.match(body));
    const step = index >= 0 ? (steps.splice(index, 1)[0] ?? {}) : {};
    if (step.error) return sendError(res, step.error, requestId);
    const documents = files.referenced(body.messages);
    if (!Array.isArray(documents)) return sendError(res, documents, requestId);
    const answer = () =>
      documents.length ? SimFiles.answer(documents, lastUserText(body)) : responder(body);
    const text = step.text ?? (translating ? simTranslation(body) : answer());
    const refused = rates.take(
      body.model,
      Math.ceil(JSON.stringify(body.messages).length / 4) + countTokens(text),
    );
    if (refused) {
      if (index >= 0) steps.splice(index, 0, step);
      return sendError(res, refused, requestId);
    }
    const outputTrigger =
      options.moderation?.output === undefined ? SIM_OUTPUT_TRIGGER : options.moderation.output;
    const reasoning = withinBudget(
      thinking ? (step.reasoning ?? 'Let me think about this step by step.') : '',
      body.thinking_budget,
    );
    // Tool schemas are input too (DashScope counts them in prompt_tokens).
    // Referenced documents count as input on every call, as DashScope bills them.
    const input = JSON.stringify([body.messages, body.tools ?? []]) + documents.map((d) => d.text).join('');
    const promptTokens = Math.ceil(input.length / 4);
    const cached = cache.apply(body);
    const id = `chatcmpl-${requestId}`;
    const created = Math.floor(Date.now() / 1000);

    if (!body.stream) {
      const completion = {
        id,
        object: 'chat.completion',
        created,
        model: body.model,
        choices: [
          { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop', logprobs: null },
        ],
        usage: simUsage(promptTokens, { text: countTokens(text), reasoning: 0 }, cached, step.cachedTokens),
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify(completion));
    }

    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const frames: string[] = [];
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      frames.push(
        JSON.stringify({
          choices: [{ delta, finish_reason: finish, index: 0, logprobs: null }],
          object: 'chat.completion.chunk',
          usage: null,
          created,
          system_fingerprint: null,
          model: body.model,
          id,
        }),
      );
    chunk({ content: '', role: 'assistant' });
    const timing = streamTiming(step, options.pace);
    const size = timing.chunkChars;
    for (const piece of pieces(reasoning, size)) chunk({ content: null, reasoning_content: piece });
    const contentStart = frames.length;
    /** Frame index where output moderation cuts the answer (no finish_reason, no usage). */
    let outputRefusedAt = -1;
    if (step.toolCalls) {
      step.toolCalls.forEach((call, index) => {
        chunk({
          tool_calls: [
            {
              index,
              id: `call_${requestId}_${index}`,
              type: 'function',
              function: { name: call.name, arguments: '' },
            },
          ],
        });
        for (const part of pieces(call.arguments, 8)) {
          chunk({ tool_calls: [{ index, id: '', type: 'function', function: { arguments: part } }] });
        }
      });
      chunk({}, 'tool_calls');
    } else {
      const cut = outputTrigger ? text.indexOf(outputTrigger) : -1;
      for (const piece of pieces(cut >= 0 ? text.slice(0, cut) : text, size))
        chunk(thinking ? { content: piece, reasoning_content: null } : { content: piece });
      if (cut >= 0) outputRefusedAt = frames.length;
      else chunk({}, step.finishReason ?? 'stop');
    }
    if (body.stream_options?.include_usage && outputRefusedAt < 0) {
      const completion = { text: countTokens(text), reasoning: countTokens(reasoning) };
      frames.push(
        JSON.stringify({
          choices: [],
          object: 'chat.completion.chunk',
          usage: simUsage(promptTokens, completion, cached, step.cachedTokens),
          created,
          system_fingerprint: null,
          model: body.model,
          id,
        }),
      );
    }

    if (timing.firstTokenDelayMs) await delay(timing.firstTokenDelayMs);
    const writer = step.splitBytes ? splitWriter(res, requestSeq) : (s: string) => res.write(s);
    for (let i = 0; i < frames.length; i++) {
      const contentChunks = i - contentStart;
      if (step.cutAfterChunks !== undefined && contentChunks === step.cutAfterChunks) {
        // Let the bytes already written reach the client, then drop the connection.
        await delay(30);
        res.socket?.destroy();
        return;
      }
      if (step.errorAfterChunks !== undefined && contentChunks === step.errorAfterChunks) {
        const frame = step.errorFrame ?? {
          code: 'internal_error',
          message: 'An internal error has occured, please try again later.',
        };
        writer(
          `data: ${JSON.stringify({ error: { type: frame.type ?? frame.code, param: null, ...frame }, request_id: requestId })}\n\n`,
        );
        return void res.end();
      }
      if (step.stallAfterChunks !== undefined && contentChunks === step.stallAfterChunks) return;
      if (step.holdAfterChunks !== undefined && contentChunks === step.holdAfterChunks)
        await step.hold?.catch(() => undefined);
      if (i === contentStart) recorded.firstContentAt = performance.now();
      writer(`data: ${frames[i]}\n\n`);
      if (timing.chunkDelayMs) await delay(timing.chunkDelayMs);
    }
    if (outputRefusedAt >= 0) {
      const frame = {
        code: 'data_inspection_failed',
        type: 'data_inspection_failed',
        param: null,
        message: 'Output data may contain inappropriate content.',
      };
      writer(`data: ${JSON.stringify({ error: frame, request_id: requestId })}\n\n`);
      return void res.end();
    }
    writer('data: [DONE]\n\n');
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/compatible-mode/v1`,
    refusals: rates.refusals,
    cache,
    files,
    requests,
    chatRequests: () =>
      requests.filter((r) => r.path.endsWith('/chat/completions')).map((r) => r.body as ChatBody),
    script: (...more) => void steps.push(...more),
    setResponder: (fn) => {
      responder = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
