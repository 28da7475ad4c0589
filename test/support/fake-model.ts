/**
 * An in-memory model for core tests that only need answers to stream (no HTTP, no SSE parsing): it
 * implements the core's ModelPort, answers `Echo: <last user text>` like the DashScope simulator, and
 * takes the same kind of script for the next request (text, chunk size, a hold after some chunks).
 * Tests about the wire (errors, retries, timeouts, usage chunks) keep using the simulator.
 */
import { type App, createApp } from '../../src/app.ts';
import type { Config } from '../../src/config/schema.ts';
import type { ModelPort } from '../../src/core/ports.ts';
import { createLogger } from '../../src/log.ts';
import type { ChatMessage, ChatRequest, ChatResult, StreamEvent } from '../../src/qwen/client.ts';
import { LogSink, TEST_API_KEY, testConfig } from './harness.ts';

export interface FakeModelStep {
  text?: string;
  /** Characters per streamed piece (default 6, as the simulator). */
  chunkChars?: number;
  /** Pause after this many pieces until `hold` settles. */
  holdAfterChunks?: number;
  hold?: Promise<unknown>;
}

export class FakeModel implements ModelPort {
  /** Every chat request, in order (probes included, with `maxTokens: 1`). */
  readonly requests: ChatRequest[] = [];
  private readonly steps: FakeModelStep[] = [];

  /** What the next request answers (then the one after, in order). */
  script(...steps: FakeModelStep[]): void {
    this.steps.push(...steps);
  }

  /** Chat requests the service made (probes left out). */
  chatRequests(): ChatRequest[] {
    return this.requests.filter((r) => r.maxTokens !== 1);
  }

  async *streamChat(req: ChatRequest): AsyncGenerator<StreamEvent, ChatResult> {
    this.requests.push(req);
    const step = this.steps.shift() ?? {};
    const text = step.text ?? `Echo: ${lastUserText(req.messages)}`;
    const size = step.chunkChars ?? 6;
    let pieces = 0;
    for (let at = 0; at < text.length; at += size) {
      if (step.holdAfterChunks !== undefined && pieces === step.holdAfterChunks)
        await step.hold?.catch(() => undefined);
      // A real stream is read over the network: let other turns run between pieces.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (req.signal?.aborted) throw req.signal.reason ?? new Error('aborted');
      yield { type: 'text', text: text.slice(at, at + size) };
      pieces++;
    }
    const promptTokens = Math.ceil(JSON.stringify(req.messages).length / 4);
    const completionTokens = Math.ceil(text.length / 4);
    const result: ChatResult = {
      text,
      reasoning: '',
      finishReason: 'stop',
      usage: {
        promptTokens,
        completionTokens,
        reasoningTokens: 0,
        cachedTokens: 0,
        totalTokens: promptTokens + completionTokens,
      },
      toolCalls: [],
      model: req.model,
      requestId: `fake-${this.requests.length}`,
    };
    return result;
  }

  async probe(model: string): Promise<undefined> {
    this.requests.push({ model, messages: [{ role: 'user', content: 'ping' }], maxTokens: 1 });
    return undefined;
  }
}

function lastUserText(messages: ChatMessage[]): string {
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return (last.content ?? [])
    .map((p) => ('text' in p && typeof p.text === 'string' ? p.text : ''))
    .filter(Boolean)
    .join(' ');
}

export interface ModelHarness {
  model: FakeModel;
  app: App;
  config: Config;
  logs: LogSink;
  close(): Promise<void>;
}

/**
 * The real app (store, guards, commands, service) with the in-memory model instead of the simulator.
 * No HTTP server is started; the configured base URL is one nothing listens on, so a call that missed
 * the fake would fail loudly.
 */
export async function startModelHarness(
  options: { config?: Record<string, unknown>; storeUrl?: string } = {},
): Promise<ModelHarness> {
  const config = testConfig('http://127.0.0.1:9/v1', options.storeUrl ?? 'sqlite://:memory:', options.config);
  const logs = new LogSink();
  const log = createLogger({ level: 'debug', destination: logs, secrets: [TEST_API_KEY] });
  const model = new FakeModel();
  const app = await createApp(config, { log, model });
  return { model, app, config, logs, close: () => app.close() };
}
