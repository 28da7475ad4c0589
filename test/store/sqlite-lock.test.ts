/**
 * One process per SQLite store file: a second process on the same file is refused with one clear line
 * naming the holder, a crashed holder leaves no stale lock, and one process may open its file twice.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { createStore, StoreError } from '../../src/store/index.ts';
import { CHILD_NODE_ENV } from '../support/run-main.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const tempFile = () => path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-lock-')), 'bot.sqlite');

/** Another process that opens the store and keeps it open until killed (or told to close). */
function holder(file: string): { child: ChildProcess; ready: Promise<void>; exited: Promise<number | null> } {
  const script = `
    const { createStore } = await import(${JSON.stringify(path.join(ROOT, 'src/store/index.ts'))});
    const store = await createStore(${JSON.stringify(`sqlite://${file}`)});
    process.stdout.write('ready\\n');
    process.stdin.on('data', async () => { await store.disconnect(); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe' });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`holder exited early (${code})`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, ready, exited };
}

it('a second process on the same SQLite file is refused with one line naming the holder', async () => {
  const file = tempFile();
  const first = holder(file);
  await first.ready;
  const err = await createStore(`sqlite://${file}`).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StoreError);
  expect((err as Error).message).toBe(
    `QWENBOT_STORE: ${file} is in use by another qwenbot process (pid ${first.child.pid}); stop it first, or give this one its own store (one SQLite file serves one process; use Redis for several)`,
  );
  // The holder crashes: the operating system drops its lock, nothing stale is left behind.
  first.child.kill('SIGKILL');
  await first.exited;
  const store = await createStore(`sqlite://${file}`);
  await store.set('k', 'v');
  // One process may open its own file twice (a restart in place); a clean stop frees it for others.
  const again = await createStore(`sqlite://${file}`);
  expect(await again.get('k')).toBe('v');
  await again.disconnect();
  await store.disconnect();
  const next = holder(file);
  await next.ready;
  next.child.stdin?.write('stop\n');
  expect(await next.exited).toBe(0);
}, 30_000);

it('the terminal chat started next to a running bot exits 2 (a store problem at start-up) with that line instead of sharing the file', async () => {
  const file = tempFile();
  const store = await createStore(`sqlite://${file}`);
  const child = spawn(process.execPath, ['src/main.ts', 'chat', 'hello'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      ...CHILD_NODE_ENV,
      DASHSCOPE_API_KEY: 'sk-test-0123456789abcdef',
      DASHSCOPE_BASE_URL: 'http://127.0.0.1:9/compatible-mode/v1',
      QWENBOT_STORE: `sqlite://${file}`,
      QWENBOT_CONFIG: path.join(ROOT, 'config', 'default.yaml'),
    },
    stdio: 'pipe',
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  await store.disconnect();
  expect(code).toBe(2);
  expect(stderr.trim().split('\n')).toEqual([
    `qwenbot: QWENBOT_STORE: ${file} is in use by another qwenbot process (pid ${process.pid}); stop it first, or give this one its own store (one SQLite file serves one process; use Redis for several)`,
  ]);
}, 30_000);
