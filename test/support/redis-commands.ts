/**
 * Counts the commands a node-redis client sends (one per command or script, one per MULTI or
 * pipeline), by wrapping its send paths in place. The same technique as bench/turn-cost.ts.
 */
export function countRedisCommands(client: unknown): {
  count: () => number;
  /** Commands by name (EVALSHA and EVAL by script sha prefix). */
  byName: () => Record<string, number>;
  reset: () => void;
} {
  const outer = client as Record<string, unknown>;
  const inner = (outer._self ?? outer) as Record<string, unknown>;
  let commands = 0;
  let names: Record<string, number> = {};
  const targets: Array<[Record<string, unknown>, string]> = [
    [inner, 'sendCommand'],
    [outer, '_executeMulti'],
    [outer, '_executePipeline'],
  ];
  for (const [target, name] of targets) {
    const original = target[name];
    // A silent miss would under-count; better a failing test than a wrong figure.
    if (typeof original !== 'function') throw new Error(`cannot count Redis commands: no client.${name}`);
    target[name] = function (this: unknown, ...args: unknown[]) {
      commands++;
      const parts =
        name === 'sendCommand' && Array.isArray(args[0]) ? (args[0] as unknown[]).map(String) : [name];
      const label = parts[0] === 'EVALSHA' ? `EVALSHA ${parts[1]?.slice(0, 8)}` : (parts[0] ?? name);
      names[label] = (names[label] ?? 0) + 1;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
  return {
    count: () => commands,
    byName: () => ({ ...names }),
    reset: () => {
      commands = 0;
      names = {};
    },
  };
}
