/**
 * The benchmarks drive the test harnesses outside vitest, on the real clock; the harnesses' time helpers
 * must not ask vitest for its fake timers there (it throws, and `npm run bench` stopped at its pacing
 * figures once).
 */
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('the harness time helpers work outside vitest, as the benchmarks use them', () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
  const script = `
    const { settle, until, useRealClock } = await import('./test/support/fake-time.ts');
    useRealClock();
    const settled = await settle(Promise.resolve('settled'), 'a promise');
    let n = 0;
    const counted = await until(() => ++n >= 3 && n, 'three looks');
    console.log(settled, counted);
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env,
    encoding: 'utf8',
  });
  expect(out.trim()).toBe('settled 3');
});
