/** The `assistant.threads.*` methods of the fake: status line, suggested prompts and title of an assistant thread. */
import { fail, type MethodContext, type Params, type Result, str } from './method-kit.ts';

export const ASSISTANT_METHODS: Record<string, (ctx: MethodContext, p: Params) => Result> = {
  // Slack's method reference: status is required ('' clears it), loading_messages at most 10; cleared by
  // the app's reply (Workspace.add) or after two minutes.
  'assistant.threads.setStatus': (ctx, p) => {
    const channel = str(p.channel_id);
    const threadTs = str(p.thread_ts);
    if (!channel) return fail('channel_not_found');
    if (!threadTs) return fail('invalid_thread_ts');
    if (typeof p.status !== 'string') return fail('invalid_arguments');
    const loading = p.loading_messages;
    if (loading !== undefined && (!Array.isArray(loading) || loading.length > 10))
      return fail('invalid_arguments', { detail: 'loading_messages: at most 10 strings' });
    const key = `${channel}:${threadTs}`;
    if (p.status) {
      ctx.ws.statuses.set(key, p.status);
      if (Array.isArray(loading)) ctx.ws.loading.set(key, loading.map(String));
    } else {
      ctx.ws.statuses.delete(key);
      ctx.ws.loading.delete(key);
    }
    return { ok: true };
  },

  // At most 4 prompts, each a title and a message; an optional title above them.
  'assistant.threads.setSuggestedPrompts': (ctx, p) => {
    const channel = str(p.channel_id);
    const threadTs = str(p.thread_ts);
    if (!channel) return fail('channel_not_found');
    const prompts = p.prompts;
    if (!Array.isArray(prompts) || prompts.length === 0 || prompts.length > 4)
      return fail('invalid_arguments', { detail: 'prompts: 1 to 4 items' });
    const list = prompts as Array<{ title?: unknown; message?: unknown }>;
    if (list.some((x) => !str(x.title) || !str(x.message)))
      return fail('invalid_arguments', { detail: 'each prompt needs a title and a message' });
    // Without thread_ts (agent view) the prompts belong to the DM itself, keyed by the channel alone.
    ctx.ws.prompts.set(threadTs ? `${channel}:${threadTs}` : channel, {
      ...(str(p.title) ? { title: str(p.title) } : {}),
      prompts: list.map((x) => ({ title: String(x.title), message: String(x.message) })),
    });
    return { ok: true };
  },

  'assistant.threads.setTitle': (ctx, p) => {
    const channel = str(p.channel_id);
    const threadTs = str(p.thread_ts);
    if (!channel) return fail('channel_not_found');
    if (!threadTs) return fail('invalid_thread_ts');
    const title = str(p.title);
    if (!title) return fail('invalid_arguments', { detail: 'title required' });
    ctx.ws.titles.set(`${channel}:${threadTs}`, title);
    return { ok: true };
  },
};
