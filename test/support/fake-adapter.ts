/** A platform adapter with nothing behind it, for runBot tests that only need readiness and stop. */
import type { PlatformAdapter } from '../../src/platform.ts';

export function fakeAdapter(name: string, isReady: () => boolean): PlatformAdapter {
  return {
    name,
    isReady,
    problem: () => undefined,
    registerCommands: async () => undefined,
    pause: async () => undefined,
    stop: async () => undefined,
    editor: { platform: name, maxChars: 2000, editMessage: async () => undefined },
  };
}
