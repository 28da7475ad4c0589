/** What a person at a terminal sees, for the console tests: a fake TTY (in-process) and a real pty. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';

/** Escape sequences (colours, cursor moves) taken out: the text as it reads. */
export function visible(text: string): string {
  return (
    text
      // A line taken back (carriage return, erase to the end of the line) is no longer on screen.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences are the point.
      .replace(/[^\n]*\r\x1b\[K/g, '')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences are the point.
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
      .replace(/\r/g, '')
  );
}

/** Collects what was written and lets a test wait (without sleeping) until some text has appeared. */
export class Screen extends Writable {
  raw = '';
  isTTY: boolean;
  columns = 100;
  rows = 40;
  private waiters: Array<() => void> = [];

  constructor(tty = true) {
    super();
    this.isTTY = tty;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.raw += chunk.toString('utf8');
    for (const wake of this.waiters.splice(0)) wake();
    cb();
  }

  get text(): string {
    return visible(this.raw);
  }

  /** Resolves once `pattern` shows (after `from` characters of the visible text); fails after `ms`. */
  waitFor(pattern: string | RegExp, from = 0, ms = 10_000): Promise<void> {
    const seen = () => {
      const text = this.text.slice(from);
      return typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
    };
    return waitUntil(
      seen,
      (wake) => this.waiters.push(wake),
      ms,
      () => `${pattern} in:\n${this.text}`,
    );
  }
}

function waitUntil(
  seen: () => boolean,
  subscribe: (wake: () => void) => void,
  ms: number,
  describe: () => string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${describe()}`)), ms);
    const check = () => {
      if (seen()) {
        clearTimeout(timer);
        resolve();
      } else subscribe(check);
    };
    check();
  });
}

/** A keyboard: an input stream that says it is a terminal (readline then runs its line editor). */
export function fakeKeyboard(): PassThrough & { isTTY: boolean; setRawMode(on: boolean): void } {
  return Object.assign(new PassThrough(), { isTTY: true, setRawMode: (_on: boolean) => undefined });
}

export const KEYS = { enter: '\r', up: '\x1b[A', ctrlC: '\x03', ctrlD: '\x04' } as const;

/** util-linux `script` gives a child a real pseudo-terminal; undefined (with the reason) where it is missing. */
export function ptyUnavailable(): string | undefined {
  const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
  return probe.status === 0
    ? undefined
    : 'util-linux `script` is not installed (it provides the pseudo-terminal)';
}

/** A command run in a real pseudo-terminal (kernel line discipline, raw mode and all). */
export class PtyProcess {
  readonly child: ChildProcess;
  raw = '';
  readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];

  constructor(command: string, env: Record<string, string>) {
    this.child = spawn('script', ['-qfec', `stty cols 120 rows 40; exec ${command}`, '/dev/null'], {
      env,
      stdio: 'pipe',
    });
    this.child.stdout?.on('data', (d: Buffer) => {
      this.raw += d.toString('utf8');
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.exited = new Promise((resolve) => this.child.on('close', resolve));
  }

  get text(): string {
    return visible(this.raw);
  }

  type(keys: string): void {
    this.child.stdin?.write(keys);
  }

  waitFor(pattern: string | RegExp, from = 0, ms = 15_000): Promise<void> {
    const seen = () => {
      const text = this.text.slice(from);
      return typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
    };
    return waitUntil(
      seen,
      (wake) => this.waiters.push(wake),
      ms,
      () => `${pattern} in:\n${this.text}`,
    );
  }

  kill(): void {
    this.child.kill();
  }
}
