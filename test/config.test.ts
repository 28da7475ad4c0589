import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { configErrorOf as errorOf } from './support/config-error.ts';

const load = (env: Record<string, string> = {}, overrides?: Record<string, unknown>) =>
  loadConfig({ file: null, env, overrides });

function yamlFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'qwenbot-cfg-')), 'override.yaml');
  writeFileSync(file, text);
  return file;
}

describe('configuration', () => {
  it('ships defaults: Beijing region, qwen-plus, text-embedding-v4, SQLite store, port 3000', () => {
    const c = load();
    expect(c.qwen.baseUrl).toBe('https://dashscope.aliyuncs.com/compatible-mode/v1');
    expect(c.qwen.defaultModel).toBe('qwen-plus');
    expect(c.qwen.embeddingModel).toBe('text-embedding-v4');
    expect(c.store.url).toBe('sqlite://data/qwenbot.sqlite');
    expect(c.http.port).toBe(3000);
    expect(c.models['qwen-max']).toMatchObject({
      context: 32768,
      maxOutput: 8192,
      priceIn: 20,
      priceOut: 60,
    });
  });

  it('region picks the base URL; DASHSCOPE_BASE_URL overrides it', () => {
    expect(load({}, { qwen: { region: 'singapore' } }).qwen.baseUrl).toBe(
      'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
    );
    expect(load({ DASHSCOPE_BASE_URL: 'http://127.0.0.1:9/compatible-mode/v1/' }).qwen.baseUrl).toBe(
      'http://127.0.0.1:9/compatible-mode/v1',
    );
  });

  it('environment overrides files: key, store, log level, port, platform tokens', () => {
    const c = load({
      DASHSCOPE_API_KEY: 'sk-x',
      QWENBOT_STORE: 'redis://127.0.0.1:6379',
      QWENBOT_INSTANCE: 'bot-1',
      LOG_LEVEL: 'debug',
      PORT: '8080',
      DISCORD_TOKEN: 'd',
      SLACK_BOT_TOKEN: 'xoxb',
    });
    expect([c.qwen.apiKey, c.store.url, c.log.level, c.http.port, c.discord.token, c.slack.botToken]).toEqual(
      ['sk-x', 'redis://127.0.0.1:6379', 'debug', 8080, 'd', 'xoxb'],
    );
  });

  it.each([
    [{ qwen: { region: 'moon' } }, /^qwen\.region: .*"moon"/],
    [{ qwen: { defaultModel: 'gpt-4' } }, /^qwen\.defaultModel: "gpt-4" is not in models/],
    [{ qwen: { retries: -1 } }, /^qwen\.retries: .*\(got -1\)/],
    [{ history: { maxTurns: 'lots' } }, /^history\.maxTurns: .*number.*\(got "lots"\)/],
    [{ guards: { colour: 'blue' } }, /^guards: unknown setting "colour"/],
    [{ qwen: { visionModel: 'qwen-plus' } }, /^qwen\.visionModel: must name a model with vision: true/],
    [{ documents: { model: 'qwen-nope' } }, /^documents\.model: "qwen-nope" is not in models/],
    [{ documents: { maxBytes: 200 * 1024 * 1024 } }, /^documents\.maxBytes: .*157286400/],
    [{ documents: { types: ['.PDF'] } }, /^documents\.types\.0: a file extension without the dot/],
    [{ translate: { model: 'qwen-nope' } }, /^translate\.model: "qwen-nope" is not in models/],
    [{ translate: { model: 'qwen-plus' } }, /^translate\.model: "qwen-plus" must be a translation model/],
    [{ summarize: { model: 'qwen-mt-turbo' } }, /^summarize\.model: "qwen-mt-turbo" must be a chat model/],
    [{ summarize: { maxMessages: 500 } }, /^summarize\.maxMessages: /],
  ])('a bad value names the key and the problem: %j', (overrides, message) => {
    expect(errorOf(() => load({}, overrides))).toMatch(message);
  });

  it('a shared store refuses the default instance name, naming the variable to set', () => {
    const shared = { QWENBOT_STORE: 'redis://127.0.0.1:6379' };
    expect(errorOf(() => load(shared))).toBe(
      'QWENBOT_INSTANCE (instanceId): must be set to a stable name unique to this instance (e.g. the pod or host name) when the store is shared (redis://) (got "default")',
    );
    expect(load({ ...shared, QWENBOT_INSTANCE: 'pod-a' }).instanceId).toBe('pod-a');
    // The embedded store is one process's own: the default name is fine there.
    expect(load({}).instanceId).toBe('default');
  });

  it('QWEN_REGION and QWEN_MODEL set the region and default model without a config file', () => {
    const c = load({ QWEN_REGION: 'singapore', QWEN_MODEL: 'qwen-max' });
    expect([c.qwen.region, c.qwen.baseUrl, c.qwen.defaultModel]).toEqual([
      'singapore',
      'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
      'qwen-max',
    ]);
    // The environment wins over a mounted file (Docker: -e over -v), and DASHSCOPE_BASE_URL over the region.
    const file = yamlFile('qwen:\n  region: us\n  defaultModel: qwen-flash\n');
    const layered = loadConfig({ file, env: { QWEN_REGION: 'hongkong', QWEN_MODEL: 'qwen-turbo' } });
    expect([layered.qwen.region, layered.qwen.defaultModel]).toEqual(['hongkong', 'qwen-turbo']);
    const pinned = load({ QWEN_REGION: 'singapore', DASHSCOPE_BASE_URL: 'http://127.0.0.1:9/v1' });
    expect(pinned.qwen.baseUrl).toBe('http://127.0.0.1:9/v1');
  });

  it('a bad QWEN_REGION or QWEN_MODEL names the variable, the key and the choices', () => {
    expect(errorOf(() => load({ QWEN_REGION: 'moon' }))).toMatch(
      /^QWEN_REGION \(qwen\.region\): .*beijing.*singapore.* \(got "moon"\)$/,
    );
    expect(errorOf(() => load({ QWEN_MODEL: 'gpt-4' }))).toMatch(
      /^QWEN_MODEL \(qwen\.defaultModel\): "gpt-4" is not in models \(known: .*qwen-plus/,
    );
  });

  it('per-model rate limits default to the paid tier; a fallback must name another catalogue model', () => {
    const plus = load().models['qwen-plus'];
    expect([plus?.rpm, plus?.tpm, plus?.fallback]).toEqual([300, 300_000, []]);
    expect(load({}, { qwen: { queue: { max: 10 } } }).qwen.queue).toEqual({ max: 10, showAfterMs: 1000 });
    expect(errorOf(() => load({}, { models: { 'qwen-plus': { fallback: ['qwen-nope'] } } }))).toMatch(
      /^models\.qwen-plus\.fallback\.0: qwen-nope is not in models/,
    );
    expect(errorOf(() => load({}, { models: { 'qwen-plus': { fallback: ['qwen-plus'] } } }))).toMatch(
      /^models\.qwen-plus\.fallback\.0: a model cannot fall back to itself/,
    );
    expect(errorOf(() => load({}, { models: { 'qwen-plus': { rpm: 0 } } }))).toMatch(
      /^models\.qwen-plus\.rpm: /,
    );
  });

  it('bad environment values name the variable', () => {
    expect(errorOf(() => load({ PORT: 'eighty' }))).toBe('PORT: "eighty" is not a whole number');
    expect(errorOf(() => load({ LOG_LEVEL: 'loud' }))).toMatch(/^LOG_LEVEL \(log\.level\): /);
    expect(errorOf(() => load({ DASHSCOPE_BASE_URL: 'not a url' }))).toMatch(
      /^DASHSCOPE_BASE_URL \(qwen\.baseUrl\): /,
    );
  });

  it('a YAML syntax error names the file and line', () => {
    const file = yamlFile('locale: en\nqwen:\n  region: [beijing\n');
    expect(errorOf(() => loadConfig({ file, env: {} }))).toMatch(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `),
    );
  });

  it('refuses secrets in config files and says which variable to set', () => {
    const file = yamlFile('qwen:\n  apiKey: sk-should-not-be-here\n');
    expect(errorOf(() => loadConfig({ file, env: {} }))).toMatch(
      /^qwen\.apiKey: secrets are read from the environment only; .* set DASHSCOPE_API_KEY$/,
    );
  });

  it.each([
    ['qwen.apiKey', 'DASHSCOPE_API_KEY', 'qwen:\n  apiKey: sk-in-the-defaults-0123\n'],
    ['discord.token', 'DISCORD_TOKEN', 'discord:\n  token: MTIz.in-the-defaults\n'],
    ['slack.botToken', 'SLACK_BOT_TOKEN', 'slack:\n  botToken: xoxb-in-the-defaults\n'],
    ['slack.signingSecret', 'SLACK_SIGNING_SECRET', 'slack:\n  signingSecret: in-the-defaults\n'],
    ['slack.appToken', 'SLACK_APP_TOKEN', 'slack:\n  appToken: xapp-in-the-defaults\n'],
  ])('refuses %s in config/default.yaml too (set %s instead), without repeating it', (key, env, text) => {
    const defaults = yamlFile(text);
    const message = errorOf(() => loadConfig({ defaults, file: null, env: {} }));
    expect(message).toBe(
      `${key}: secrets are read from the environment only; remove it from ${defaults} and set ${env}`,
    );
    expect(message).not.toContain('in-the-defaults');
  });

  it('an override file layers over the defaults', () => {
    const file = yamlFile('locale: zh\nqwen:\n  defaultModel: qwen-max\n');
    const c = loadConfig({ file, env: {} });
    expect([c.locale, c.qwen.defaultModel, c.qwen.embeddingModel]).toEqual([
      'zh',
      'qwen-max',
      'text-embedding-v4',
    ]);
  });

  it('npm start with a bad value prints one line naming the key and exits 2', () => {
    const file = yamlFile('qwen:\n  region: moon\n');
    const run = spawnSync(process.execPath, ['src/main.ts', 'chat', 'hi'], {
      env: { PATH: process.env.PATH, QWENBOT_CONFIG: file },
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^qwenbot: configuration error: qwen\.region: /);
  });
});
