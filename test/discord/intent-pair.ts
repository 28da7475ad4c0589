import { type DiscordHarness, startDiscordHarness } from './harness.ts';

/**
 * A file's harness with the Message Content intent, then (for its last tests) one without it. One
 * harness at a time, since each fakes the clock: `withoutIntent` closes the first before starting the
 * second; `close` closes whichever is open.
 */
export function intentPair() {
  let withIntent: DiscordHarness | undefined;
  let blind: DiscordHarness | undefined;
  return {
    async withIntent(): Promise<DiscordHarness> {
      withIntent = await startDiscordHarness({ config: { discord: { messageContentIntent: true } } });
      return withIntent;
    },
    async withoutIntent(): Promise<DiscordHarness> {
      await withIntent?.close();
      withIntent = undefined;
      blind = await startDiscordHarness();
      return blind;
    },
    async close(): Promise<void> {
      await withIntent?.close();
      await blind?.close();
    },
  };
}
