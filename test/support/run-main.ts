import { spawn } from 'node:child_process';
import path from 'node:path';

export interface MainRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node src/main.ts <args>` as a separate process with exactly this environment (nothing inherited
 * unless passed), feeds it `stdin` (or nothing), and resolves with its exit code and output.
 */
export function runMain(
  args: string[],
  opts: { env: Record<string, string | undefined>; cwd?: string; stdin?: string },
): Promise<MainRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.resolve('src/main.ts'), ...args], {
      env: opts.env,
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
