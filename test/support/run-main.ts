import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * For every `node src/main.ts` a test starts: V8's compile cache, shared by all of them. Loading
 * discord.js, Bolt and the openai SDK is most of a start (about 1.3 s of CPU cold, 0.6 s cached), and
 * the suite starts the bot some twenty-five times. Changes nothing the bot does.
 */
export const CHILD_NODE_ENV = { NODE_COMPILE_CACHE: path.join(tmpdir(), 'qwenbot-test-compile-cache') };

export interface MainRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node src/main.ts <args>` as a separate process with exactly this environment (nothing inherited
 * unless passed; plus CHILD_NODE_ENV), feeds it `stdin` (or nothing), and resolves with its exit code and output.
 */
export function runMain(
  args: string[],
  opts: { env: Record<string, string | undefined>; cwd?: string; stdin?: string },
): Promise<MainRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.resolve('src/main.ts'), ...args], {
      env: { ...CHILD_NODE_ENV, ...opts.env },
      stdio: 'pipe',
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

/** A port on 127.0.0.1 nothing listens on: bound once, then closed. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}
