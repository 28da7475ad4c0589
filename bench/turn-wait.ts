/**
 * What waiting for a conversation's turn costs on Redis: 20 turns taken at once in one conversation,
 * each held for HOLD_MS (the answer's time), served one after another. Counts the round trips the
 * coordinator's connection made (a command or script each), the commands Redis ran for them (a private
 * redis-server's total_commands_processed: scripts' inner commands count, all connections count,
 * nothing else does) and this process's CPU time. `node bench/turn-wait.ts` runs it alone.
 */
import { createClient } from '@redis/client';
import { RedisCoordinator } from '../src/store/coordination.ts';
import { countRedisCommands } from '../test/support/redis-commands.ts';
import { freePort, startRedis } from '../test/support/redis-server.ts';

const WAITERS = 20;
const HOLD_MS = 250;

/** Commands Redis has run so far (the INFO asking counts too: subtract one per call). */
async function commandsRun(client: { info(section: string): Promise<string> }): Promise<number> {
  return Number(/total_commands_processed:(\d+)/.exec(await client.info('stats'))?.[1]);
}

/** null figures when no redis-server can be started here. */
export async function benchTurnWait(
  log: (line: string) => void = () => {},
): Promise<Record<string, number | null>> {
  const port = await freePort();
  const server = await startRedis(port).catch(() => undefined);
  if (!server)
    return {
      turn_wait_round_trips_20_waiters: null,
      turn_wait_redis_commands_20_waiters: null,
      turn_wait_cpu_ms_20_waiters: null,
    };
  const url = `redis://127.0.0.1:${port}`;
  const probe = createClient({ url });
  await probe.connect();
  const coordinator = await RedisCoordinator.connect({ url, prefix: 'bench-turn-wait' });
  try {
    const trips = countRedisCommands(coordinator.client);
    const before = await commandsRun(probe);
    const cpu = process.cpuUsage();
    const turns = Array.from({ length: WAITERS }, () => coordinator.turn('busy-channel'));
    for (const place of turns) {
      const turn = await place;
      await new Promise((r) => setTimeout(r, HOLD_MS));
      await turn.release();
    }
    const used = process.cpuUsage(cpu);
    const commands = (await commandsRun(probe)) - before - 1;
    const cpuMs = Math.round((used.user + used.system) / 1000);
    log(
      `  ${WAITERS} turns of ${HOLD_MS} ms in one conversation: ${trips.count()} round trips, ${commands} Redis commands, ${cpuMs} ms CPU`,
    );
    return {
      turn_wait_round_trips_20_waiters: trips.count(),
      turn_wait_redis_commands_20_waiters: commands,
      turn_wait_cpu_ms_20_waiters: cpuMs,
    };
  } finally {
    await coordinator.close();
    await probe.close();
    server.kill('SIGKILL');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await benchTurnWait((line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  process.exit(0);
}
