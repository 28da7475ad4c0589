/**
 * CI's Docker step (.ci/run): builds the image, starts it in Slack Socket Mode (the manifest's default)
 * against the fake Slack and the DashScope simulator on this host, waits for Docker to report it healthy
 * (the image's own HEALTHCHECK, /readyz), has a person mention the bot and waits for the answer, then runs
 * the commands the start-up hints name (`npm run demo`, `npm start -- chat`, `qwenbot help`) inside it.
 * Skips with one line saying why when there is no Docker daemon or the base images are not present
 * locally: the build must pull nothing but npm packages.
 * Exit 0: passed or skipped; 1: failed (with the container's log).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { startDashScopeSim } from '../support/dashscope-sim.ts';
import { FakeSlack, say } from '../support/fake-slack/index.ts';

const IMAGE = process.env.QWENBOT_CI_IMAGE ?? 'qwenbot:ci';
const BASE_IMAGES = ['node:24-bookworm', 'node:24-bookworm-slim'];
const BUILD_TIMEOUT_MS = Number(process.env.QWENBOT_CI_BUILD_TIMEOUT_MS ?? 480_000);
const HEALTHY_WITHIN_MS = 90_000;
const ANSWER_WITHIN_MS = 30_000;
const started = Date.now();

function docker(args: string[], timeout = 60_000) {
  const run = spawnSync('docker', args, { encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 });
  return { ok: run.status === 0, out: `${run.stdout ?? ''}${run.stderr ?? ''}`.trim(), error: run.error };
}
/** For commands that talk to the simulators in this process: spawnSync would block their event loop. */
function dockerAsync(args: string[], timeout = 60_000) {
  return new Promise<{ ok: boolean; out: string }>((resolve) => {
    const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ ok: code === 0, out: out.trim() }));
    child.on('error', (err) => resolve({ ok: false, out: err.message }));
  });
}
const note = (line: string) => console.log(`ci: docker: ${line}`);
const seconds = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

function skip(reason: string): never {
  note(`skipped: ${reason}`);
  process.exit(0);
}

const version = docker(['version', '--format', '{{.Server.Version}}'], 15_000);
if (version.error && (version.error as NodeJS.ErrnoException).code === 'ENOENT')
  skip('no docker command on this machine');
if (!version.ok)
  skip(`no Docker daemon answers (${version.out.split('\n').at(-1) || 'docker version failed'})`);
const missing = BASE_IMAGES.filter((image) => !docker(['image', 'inspect', image], 15_000).ok);
if (missing.length > 0)
  skip(
    `base image ${missing.join(' and ')} not present (docker pull it, or without a registry run scripts/docker-base-offline.sh)`,
  );
note(`daemon ${version.out}; building ${IMAGE}`);

const build = docker(['build', '--network', 'host', '--pull=false', '-t', IMAGE, '.'], BUILD_TIMEOUT_MS);
if (!build.ok) {
  console.log(build.out.split('\n').slice(-30).join('\n'));
  note(`FAILED: docker build ${build.error ? `timed out after ${BUILD_TIMEOUT_MS / 1000} s` : 'failed'}`);
  process.exit(1);
}
note(`built in ${seconds()}`);

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });

const API_KEY = 'sk-ci-not-a-real-key';
const sim = await startDashScopeSim({ apiKey: API_KEY });
const slack = await FakeSlack.start();
const port = await freePort();
const name = `qwenbot-ci-${process.pid}`;
let failure: string | undefined;
try {
  const env = {
    PORT: String(port),
    DASHSCOPE_API_KEY: API_KEY,
    DASHSCOPE_BASE_URL: sim.baseUrl,
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_APP_TOKEN: slack.appToken,
    SLACK_API_URL: slack.apiUrl,
    LOG_LEVEL: 'info',
  };
  const envArgs = Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
  // --health-interval: the image's own HEALTHCHECK command, probed more often than its 30 s.
  const detached = ['run', '--detach', '--network', 'host', '--name', name, '--health-interval', '2s'];
  const run = docker([...detached, ...envArgs, IMAGE]);
  if (!run.ok) throw new Error(`docker run failed: ${run.out}`);
  failure = await waitHealthy();
  if (!failure) {
    note(`healthy in ${seconds()}`);
    failure = await answersAMention();
  }
  if (!failure) failure = await hintsWork();
} catch (err) {
  failure = err instanceof Error ? err.message : String(err);
} finally {
  if (failure) console.log(docker(['logs', '--tail', '40', name]).out);
  docker(['rm', '--force', name]);
  await slack.close();
  await sim.close();
}
if (failure) {
  note(`FAILED: ${failure}`);
  process.exit(1);
}
note(`passed in ${seconds()}`);

async function waitHealthy(): Promise<string | undefined> {
  const deadline = Date.now() + HEALTHY_WITHIN_MS;
  let last = '';
  while (Date.now() < deadline) {
    last = docker(['inspect', '--format', '{{.State.Status}} {{.State.Health.Status}}', name]).out;
    if (last === 'running healthy') return undefined;
    if (!last.startsWith('running')) return `the container stopped (${last})`;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return `not healthy within ${HEALTHY_WITHIN_MS / 1000} s (last: ${last})`;
}

async function answersAMention(): Promise<string | undefined> {
  const said = say(slack, { user: 'U0ALICE', channel: 'C0GENERAL', text: `<@${slack.bot.userId}> ping` });
  await Promise.all(said.deliveries.map((body) => slack.socket.deliverEvent(body)));
  const deadline = Date.now() + ANSWER_WITHIN_MS;
  while (Date.now() < deadline) {
    const answer = slack.thread('C0GENERAL', said.ts).find((m) => m.bot && /^Echo: .*ping$/.test(m.text));
    if (answer && !answer.streaming) {
      note(`answered a mention: "${answer.text.slice(0, 60)}"`);
      return undefined;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const seen = slack.thread('C0GENERAL', said.ts).map((m) => m.text);
  return `no answer to a mention within ${ANSWER_WITHIN_MS / 1000} s (thread: ${JSON.stringify(seen)})`;
}

async function hintsWork(): Promise<string | undefined> {
  // The commands the start-up hints and usage text name must work inside the image.
  const run = (args: string[], env: Record<string, string> = {}) =>
    dockerAsync([
      'run',
      '--rm',
      '--network',
      'host',
      ...Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]),
      IMAGE,
      ...args,
    ]);
  const demo = await run(['npm', 'run', '--silent', 'demo', '--', 'hi']);
  if (!demo.ok || !/You said: .*hi/.test(demo.out))
    return `npm run demo does not work in the image: ${demo.out.split('\n').slice(-5).join(' | ')}`;
  const chat = await run(['npm', 'start', '--silent', '--', 'chat', 'hello'], {
    DASHSCOPE_API_KEY: API_KEY,
    DASHSCOPE_BASE_URL: sim.baseUrl,
  });
  if (!chat.ok || !chat.out.includes('Echo: hello'))
    return `npm start -- chat does not work in the image: ${chat.out.split('\n').slice(-5).join(' | ')}`;
  const usage = await run(['qwenbot', 'help']);
  if (!usage.ok || !usage.out.includes('qwenbot chat'))
    return `qwenbot help does not work in the image: ${usage.out.split('\n').slice(-5).join(' | ')}`;
  note('npm run demo, npm start -- chat and qwenbot help work in the image');
  return undefined;
}
