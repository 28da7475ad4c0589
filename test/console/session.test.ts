import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runInteractive, sendConsoleMessage } from '../../adapters/console/index.ts';
import { lastUserText } from '../support/dashscope-sim.ts';
import { until } from '../support/fake-time.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { fakeKeyboard, KEYS, Screen } from './screen.ts';

let h: Harness | undefined;
beforeEach(() => {
  // What the CI's own terminal settings are must not decide what these tests see.
  vi.stubEnv('NO_COLOR', '');
  vi.stubEnv('TERM', 'xterm-256color');
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await h?.close();
  h = undefined;
});

/** A person at a terminal: the real console session on a fake TTY, stdout and stderr apart. */
async function terminal(config?: Record<string, unknown>) {
  h = await startHarness({ config });
  const keyboard = fakeKeyboard();
  const out = new Screen();
  const err = new Screen();
  const done = runInteractive({
    service: h.app.service,
    output: out,
    errors: err,
    input: keyboard,
    prompt: true,
    user: 'alice',
  });
  await out.waitFor('> ');
  return { harness: h, keyboard, out, err, done };
}

describe('the terminal chat, as a person sees it', () => {
  it('↑ brings back the last line, so it can be sent again', async () => {
    const { harness, keyboard, out } = await terminal();
    keyboard.write(`what is a qwen?${KEYS.enter}`);
    await out.waitFor('Echo: what is a qwen?');
    const mark = out.text.length;
    keyboard.write(`${KEYS.up}${KEYS.enter}`);
    await out.waitFor('Echo: what is a qwen?', mark);
    expect(harness.sim.chatRequests().map(lastUserText)).toEqual(['what is a qwen?', 'what is a qwen?']);
  });

  it('lines pasted together are one message (the terminal brackets a paste)', async () => {
    const { harness, keyboard, out } = await terminal();
    keyboard.write(`\x1b[200~first line\rsecond line\x1b[201~${KEYS.enter}`);
    await out.waitFor('Echo: first line');
    expect(harness.sim.chatRequests().map(lastUserText)).toEqual(['first line\nsecond line']);
    expect(out.raw.startsWith('\x1b[?2004h')).toBe(true);
  });

  it('a mistyped command gets the nearest one on stderr and is not sent to the model', async () => {
    const { harness, keyboard, out, err } = await terminal();
    keyboard.write(`/modle qwen-max${KEYS.enter}`);
    await err.waitFor('Unknown command');
    expect(err.text).toBe('Unknown command /modle. Did you mean /model? Type /help for the list.\n');
    await out.waitFor(/> [\s\S]*> /);
    expect(harness.sim.chatRequests()).toHaveLength(0);
  });

  it('Ctrl-C during an answer stops it and keeps what arrived; one more Ctrl-C at the prompt leaves', async () => {
    const { harness, keyboard, out, done } = await terminal();
    harness.sim.script({
      text: 'First part. Second part never comes.',
      chunkChars: 6,
      holdAfterChunks: 2,
      hold: new Promise(() => undefined),
    });
    keyboard.write(`tell me${KEYS.enter}`);
    await out.waitFor('First part.');
    keyboard.write(KEYS.ctrlC);
    await out.waitFor('⏹️ Stopped by alice.');
    await out.waitFor(/\.\)\n> /);
    expect(out.text).toContain(
      '> tell me\nFirst part. \n⏹️ Stopped by alice.\n(To leave, press Ctrl-C again or Ctrl-D, or type /exit.)\n> ',
    );
    expect(out.text).not.toContain('never comes');
    const history = await harness.app.service.history.load('console:local:terminal');
    expect(history.at(-1)).toMatchObject({ role: 'assistant', text: 'First part. ', status: 'stopped' });
    keyboard.write(KEYS.ctrlC);
    await done;
  });

  it('at the prompt, Ctrl-C clears a typed line; on an empty line it warns once, then leaves', async () => {
    const { harness, keyboard, out, done } = await terminal();
    keyboard.write(`half a thou${KEYS.ctrlC}`);
    keyboard.write(`whole thought${KEYS.enter}`);
    await out.waitFor('Echo: whole thought');
    expect(harness.sim.chatRequests().map(lastUserText)).toEqual(['whole thought']);
    const mark = out.text.length;
    keyboard.write(KEYS.ctrlC);
    await out.waitFor('(To leave, press Ctrl-C again or Ctrl-D, or type /exit.)', mark);
    keyboard.write(KEYS.ctrlC);
    await done;
  });

  it('before the first token a waiting mark shows; Ctrl-C then stops the answer too', async () => {
    const { harness, keyboard, out } = await terminal();
    harness.sim.script({ text: 'never shown', holdAfterChunks: 0, hold: new Promise(() => undefined) });
    keyboard.write(`slow one${KEYS.enter}`);
    // The question is with the model (its request recorded) before the key is pressed.
    await waitForRequest(harness);
    // While the model has not answered yet, the terminal says it is waiting (and how to stop).
    await out.waitFor('… (Ctrl-C stops)');
    keyboard.write(KEYS.ctrlC);
    await out.waitFor('⏹️ Stopped by alice.');
    expect(out.text).not.toContain('never shown');
    // The waiting mark is taken back: the stop line takes its place.
    await out.waitFor(/\.\)\n> /);
    expect(out.text).toContain('> slow one\n⏹️ Stopped by alice.\n(To leave');
  });

  it('Ctrl-D at the prompt leaves', async () => {
    const { keyboard, done } = await terminal();
    keyboard.write(KEYS.ctrlD);
    await done;
  });

  it('renders Markdown on a terminal: headings, lists and code without their marks', async () => {
    const { harness, keyboard, out } = await terminal();
    harness.sim.script({
      text: '## Steps\n\n1. Install **Node 24**\n- run `npm ci`\n\n```sh\nnpm start\n```\nDone.',
      chunkChars: 3,
    });
    keyboard.write(`how?${KEYS.enter}`);
    await out.waitFor('Done.');
    expect(out.text).toContain('Steps\n\n1. Install Node 24\n• run npm ci\n\n┌─ sh\n│ npm start\n└─\nDone.');
    expect(out.raw).toContain('\x1b[1;33mSteps');
    expect(out.raw).toContain('\x1b[1mNode 24');
  });

  it('an error is printed once, on stderr; stdout keeps only the answer', async () => {
    const { harness, keyboard, out, err } = await terminal();
    harness.sim.script(
      { text: 'Half an ans', chunkChars: 4, cutAfterChunks: 2 },
      { error: { status: 400, code: 'invalid_parameter_error' } },
      { error: { status: 400, code: 'invalid_parameter_error' } },
    );
    keyboard.write(`break please${KEYS.enter}`);
    await err.waitFor('error: ');
    await out.waitFor(/Half an \n> /);
    const lines = err.text.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: \S/);
    expect(out.text).not.toContain((lines[0] ?? '').replace('error: ', ''));
    expect(out.text).not.toContain('⚠️');
  });

  it('the terminal user is the operator: no per-user rate limit, and an admin', async () => {
    const { harness, keyboard, out } = await terminal({ guards: { userMessagesPerWindow: 1 } });
    for (const n of [1, 2, 3]) {
      keyboard.write(`question ${n}${KEYS.enter}`);
      await out.waitFor(`Echo: question ${n}`);
    }
    expect(harness.sim.chatRequests()).toHaveLength(3);
    expect(out.text).not.toMatch(/too many|slow down|wait/i);
    keyboard.write(`/model qwen-max default:true${KEYS.enter}`);
    await out.waitFor(/qwen-max[\s\S]*> $/);
    expect(out.text).not.toContain('Only admins');
  });
});

describe('one message (npm start -- chat "…")', () => {
  it('prints Markdown as written when stdout is not a terminal', async () => {
    h = await startHarness();
    h.sim.script({ text: '## Title\n- item **bold**' });
    const out = new Screen(false);
    const err = new Screen(false);
    await sendConsoleMessage({ service: h.app.service, output: out, errors: err }, 'hi');
    expect(out.raw).toBe('## Title\n- item **bold**\n');
  });

  it('prints Markdown as written on a terminal too when NO_COLOR is set', async () => {
    vi.stubEnv('NO_COLOR', '1');
    h = await startHarness();
    h.sim.script({ text: '## Title\n- item **bold**' });
    const out = new Screen(true);
    await sendConsoleMessage({ service: h.app.service, output: out, errors: new Screen(false) }, 'hi');
    expect(out.raw).toBe('## Title\n- item **bold**\n');
  });

  it('with stdout redirected to a file, the session writes only the answers (no prompt, no escapes)', async () => {
    h = await startHarness();
    const out = new Screen(false);
    const keyboard = fakeKeyboard();
    const done = runInteractive({
      service: h.app.service,
      output: out,
      errors: new Screen(false),
      input: keyboard,
      prompt: true,
    });
    keyboard.end('first\nsecond\n');
    await done;
    expect(out.raw).toBe('Echo: first\nEcho: second\n');
  });

  it('a refusal (message too long) is an error line on stderr, not an answer on stdout', async () => {
    h = await startHarness({ config: { guards: { maxMessageChars: 10 } } });
    const io = { service: h.app.service, output: new Screen(false), errors: new Screen(false) };
    const outcome = await sendConsoleMessage(io, 'x'.repeat(25));
    expect(outcome.status).toBe('refused');
    expect(io.output.raw).toBe('');
    expect(io.errors.raw).toMatch(/^[^\n]*25[^\n]*10[^\n]*\n$/);
    expect(h.sim.chatRequests()).toHaveLength(0);
  });

  it('the terminal user is not held to the per-user rate limit (one message a window here)', async () => {
    h = await startHarness({ config: { guards: { userMessagesPerWindow: 1 } } });
    const io = { service: h.app.service, output: new Screen(false), errors: new Screen(false) };
    for (const n of [1, 2, 3]) await sendConsoleMessage(io, `question ${n}`);
    expect(io.output.text).toBe('Echo: question 1\nEcho: question 2\nEcho: question 3\n');
    expect(io.errors.text).toBe('');
  });
});

async function waitForRequest(harness: Harness) {
  await until(() => harness.sim.chatRequests().length > 0, 'the question to reach the model');
  expect(harness.sim.chatRequests()).toHaveLength(1);
}
