import type { NativeStream, PostedMessage, ReplySurface } from './types.ts';

/**
 * The reply surface with a fixed heading above the answer's first message (a voice message's transcript):
 * the first post and every edit of that message carry it, a native stream's first append starts with
 * it, and the per-message limits shrink by its length so splits still fit the platform. The streamer
 * and the stored answer know nothing of it.
 */
export function withHeading(surface: ReplySurface, heading: string): ReplySurface {
  // A blank line ends the quote: in Markdown a next line would continue it (lazy continuation).
  const prefix = `${heading}\n\n`;
  let claimed = false;
  let headed: string | undefined;
  const room = (max: number) => Math.max(max - prefix.length, Math.ceil(max / 2));
  const wrapped: ReplySurface = {
    get limits() {
      return { ...surface.limits, maxChars: room(surface.limits.maxChars) };
    },
    async post(text, options) {
      if (claimed) return surface.post(text, options);
      claimed = true;
      try {
        const message = await surface.post(prefix + text, options);
        headed = message.id;
        return message;
      } catch (err) {
        claimed = false;
        throw err;
      }
    },
    edit(message: PostedMessage, text, options) {
      return surface.edit(message, message.id === headed ? prefix + text : text, options);
    },
  };
  const optional = {
    ...(surface.showTyping ? { showTyping: () => surface.showTyping?.() ?? Promise.resolve() } : {}),
    ...(surface.postPrivate
      ? { postPrivate: (text: string) => surface.postPrivate?.(text) ?? Promise.resolve() }
      : {}),
    ...(surface.spoiler ? { spoiler: (text: string) => surface.spoiler?.(text) ?? text } : {}),
    ...(surface.locale ? { locale: surface.locale } : {}),
    ...(surface.audience ? { audience: surface.audience } : {}),
  };
  Object.assign(wrapped, optional);
  const native = surface.native;
  if (native) {
    wrapped.native = {
      maxChars: room(native.maxChars),
      minAppendIntervalMs: native.minAppendIntervalMs,
      ...(native.ending ? { ending: (lines: string) => native.ending?.(lines) ?? Promise.resolve() } : {}),
      async open(): Promise<NativeStream> {
        const stream = await native.open();
        if (claimed) return stream;
        claimed = true;
        let first = true;
        return {
          get id() {
            return stream.id;
          },
          append(text: string) {
            const piece = first ? prefix + text : text;
            first = false;
            return stream.append(piece);
          },
          stop: (options) => stream.stop(options),
        };
      },
    };
  }
  return wrapped;
}
