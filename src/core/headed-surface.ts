import type { NativeStream, NativeStreaming, PostedMessage, ReplySurface } from './types.ts';

/**
 * `target` with some members replaced; every other member (capabilities added later included) is the
 * target's own, its methods called on the target.
 */
function overlay<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(t, key) {
      if (Object.hasOwn(overrides, key)) return (overrides as Record<PropertyKey, unknown>)[key];
      const value = Reflect.get(t, key, t) as unknown;
      return typeof value === 'function' ? value.bind(t) : value;
    },
    has: (t, key) => Object.hasOwn(overrides, key) || Reflect.has(t, key),
  });
}

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
  const overrides: Partial<ReplySurface> = {
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
  const native = surface.native;
  if (native)
    overrides.native = headedNative(native, prefix, room, () => {
      if (claimed) return false;
      claimed = true;
      return true;
    });
  return overlay(surface, overrides);
}

/** Native streaming whose first stream's first append starts with the heading (when no post took it). */
function headedNative(
  native: NativeStreaming,
  prefix: string,
  room: (max: number) => number,
  claim: () => boolean,
): NativeStreaming {
  return overlay(native, {
    maxChars: room(native.maxChars),
    async open(): Promise<NativeStream> {
      const stream = await native.open();
      if (!claim()) return stream;
      let first = true;
      return overlay(stream, {
        append(text: string) {
          const piece = first ? prefix + text : text;
          first = false;
          return stream.append(piece);
        },
      });
    },
  });
}
