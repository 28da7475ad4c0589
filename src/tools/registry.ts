import type { Config } from '../config/schema.ts';
import type { AnswerTools, ChatToolbox, ToolRound, ToolRunContext } from '../core/answer.ts';
import { FAQ_DISPLAY_NAME } from '../core/answer-tools.ts';
import type { Faq } from '../faq/service.ts';
import { FAQ_TOOL_NAME, type FaqToolResult, faqToolDefinition, runFaqTool } from '../faq/tool.ts';
import type { Logger } from '../log.ts';
import type { ChatMessage, ChatTool, ToolCall } from '../qwen/client.ts';
import type { McpHub } from './mcp-hub.ts';
import { errorResult, functionName, resultText, truncate } from './tool-output.ts';
import { allowAllTools, type LoadedToolSettings, type ToolAccess, type ToolScope } from './types.ts';

export interface ToolRegistryDeps {
  config: Config;
  log: Logger;
  faq?: Faq;
  hub?: McpHub;
  access?: ToolAccess;
}

/** Where a function name offered to the model leads. */
type Target = { kind: 'faq' } | { kind: 'mcp'; server: string; tool: string };

interface CallOutcome {
  content: string;
  /** Shown in the "used" line: the call gave the model something to work with. */
  used: boolean;
}

/**
 * One registry of tools for the answer loop: the FAQ's `search_faq` plus the tools of every ready MCP
 * server the scope may use (`ToolAccess`). Calls of one round run side by side, each with its own
 * timeout; every failure becomes a tool result the model reads, never a failed answer.
 */
export class ToolRegistry implements ChatToolbox {
  private readonly deps: ToolRegistryDeps;
  private readonly access: ToolAccess;

  constructor(deps: ToolRegistryDeps) {
    this.deps = deps;
    this.access = deps.access ?? allowAllTools;
  }

  async forScope(scope: ToolScope, loaded?: LoadedToolSettings): Promise<AnswerTools> {
    const definitions: ChatTool[] = [];
    const targets = new Map<string, Target>();
    if (this.deps.faq?.toolEnabled) {
      definitions.push(faqToolDefinition);
      targets.set(FAQ_TOOL_NAME, { kind: 'faq' });
    }
    const hubTools = this.deps.hub?.tools() ?? [];
    const servers = [...new Set(hubTools.map((t) => t.server))];
    const allowed = servers.length ? await this.allowed(scope, servers, loaded) : new Set<string>();
    for (const { server, tool } of hubTools) {
      if (!allowed.has(server)) continue;
      const name = functionName(server, tool.name, new Set(targets.keys()));
      targets.set(name, { kind: 'mcp', server, tool: tool.name });
      definitions.push({
        type: 'function',
        function: {
          name,
          ...(tool.description ? { description: tool.description } : {}),
          parameters: tool.inputSchema as Record<string, unknown>,
        },
      });
    }
    return { definitions, run: (calls, ctx) => this.run(targets, calls, ctx) };
  }

  private async allowed(
    scope: ToolScope,
    servers: string[],
    loaded: LoadedToolSettings | undefined,
  ): Promise<Set<string>> {
    try {
      return await this.access.allowedServers(scope, servers, loaded);
    } catch (err) {
      // Without an answer from the policy nothing is offered: safer than everything.
      this.deps.log.warn({ err }, 'tool access check failed; no MCP tools offered in this answer');
      return new Set();
    }
  }

  private async run(
    targets: Map<string, Target>,
    calls: ToolCall[],
    ctx: ToolRunContext,
  ): Promise<ToolRound> {
    const messages: ChatMessage[] = [
      {
        role: 'assistant',
        content: ctx.text ?? '',
        tool_calls: calls.map((c) => ({
          id: c.id,
          type: 'function' as const,
          function: { name: c.name, arguments: c.arguments },
        })),
      },
    ];
    const running = new Map<string, string>();
    const failed = new Set<string>();
    const report = () => ctx.onRunning([...new Set(running.values())], [...failed]);
    const outcomes = await Promise.all(
      calls.map(async (call) => {
        const target = targets.get(call.name);
        const shown = target ? displayName(target) : call.name;
        running.set(call.id, shown);
        report();
        const started = Date.now();
        const outcome = await this.runOne(target, call, ctx.signal);
        if (!outcome.used) failed.add(shown);
        running.delete(call.id);
        report();
        this.deps.log.info(
          { tool: shown, ms: Date.now() - started, ok: outcome.used, chars: outcome.content.length },
          'tool call finished',
        );
        return { shown, outcome };
      }),
    );
    const used: string[] = [];
    calls.forEach((call, i) => {
      const done = outcomes[i];
      if (!done) return;
      const content = truncate(done.outcome.content, this.deps.config.tools.resultMaxChars);
      messages.push({ role: 'tool', tool_call_id: call.id, content });
      if (done.outcome.used && !used.includes(done.shown)) used.push(done.shown);
    });
    return { messages, used };
  }

  private async runOne(
    target: Target | undefined,
    call: ToolCall,
    signal: AbortSignal,
  ): Promise<CallOutcome> {
    if (!target) return { content: errorResult(`unknown tool "${call.name}"`), used: false };
    let args: unknown;
    try {
      args = JSON.parse(call.arguments || '{}');
    } catch {
      return { content: errorResult('arguments are not valid JSON; send a JSON object'), used: false };
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args))
      return { content: errorResult('arguments must be a JSON object'), used: false };
    try {
      if (target.kind === 'faq') return await this.runFaq(args as Record<string, unknown>);
      return await this.runMcp(target, args as Record<string, unknown>, signal);
    } catch (err) {
      this.deps.log.warn({ err, tool: displayName(target) }, 'tool call failed');
      return { content: errorResult('the tool failed; answer without it'), used: false };
    }
  }

  private async runFaq(args: Record<string, unknown>): Promise<CallOutcome> {
    const faq = this.deps.faq;
    if (!faq) return { content: errorResult('the FAQ is not available'), used: false };
    const content = await runFaqTool(faq, args);
    const matches = (JSON.parse(content) as Partial<FaqToolResult>).matches?.length ?? 0;
    return { content, used: matches > 0 };
  }

  private async runMcp(
    target: { server: string; tool: string },
    args: Record<string, unknown>,
    answer: AbortSignal,
  ): Promise<CallOutcome> {
    const hub = this.deps.hub;
    if (!hub) return { content: errorResult('tool server not available'), used: false };
    const timeoutMs = this.deps.config.tools.callTimeoutMs;
    const timer = new AbortController();
    const handle = setTimeout(() => timer.abort(new Error('tool call timed out')), timeoutMs);
    const signal = AbortSignal.any([answer, timer.signal]);
    try {
      // The SDK's own timeout is a little later: this one cancels the call and names the limit.
      const result = await hub.call(target.server, target.tool, args, {
        signal,
        timeoutMs: timeoutMs + 1000,
      });
      const text = resultText(result);
      if (result.isError) return { content: errorResult(text || 'the tool reported an error'), used: false };
      return { content: text, used: true };
    } catch (err) {
      if (timer.signal.aborted)
        return {
          content: errorResult(
            `timed out after ${Math.round(timeoutMs / 100) / 10} s; the call was cancelled`,
          ),
          used: false,
        };
      if (answer.aborted) return { content: errorResult('the answer was stopped'), used: false };
      const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
      return { content: errorResult(`${target.server}.${target.tool} failed: ${message}`), used: false };
    } finally {
      clearTimeout(handle);
    }
  }
}

function displayName(target: Target): string {
  return target.kind === 'faq' ? FAQ_DISPLAY_NAME : `${target.server}.${target.tool}`;
}
