import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// What an operator meets with `docker compose up`: checked here because CI has no Compose to run it.
const root = path.resolve(import.meta.dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const compose = parse(read('docker-compose.yml'));
const redisLayer = parse(read('docker-compose.redis.yml'));

/** The variables `.env.example` sets (uncommented) and the ones it only mentions in comments. */
function envExample() {
  const lines = read('.env.example').split('\n');
  const names = (re: RegExp) => lines.flatMap((l) => re.exec(l)?.[1] ?? []);
  return { set: names(/^([A-Z_]+)=/), commented: names(/^#\s*([A-Z_]+)=/) };
}

describe('docker compose', () => {
  it('has no version key (obsolete in Compose v2, optional since v1.27)', () => {
    expect(Object.keys(compose)).not.toContain('version');
    expect(Object.keys(redisLayer)).not.toContain('version');
  });

  it('publishes the HTTP port (with the unauthenticated /metrics) on 127.0.0.1 by default', () => {
    const ports: string[] = compose.services.qwenbot.ports;
    expect(ports).toEqual([`\${QWENBOT_HTTP_BIND:-127.0.0.1}:\${PORT:-3000}:\${PORT:-3000}`]);
  });

  it('with the Redis layer, the bot waits for a Redis that answers PING and uses it', () => {
    expect(redisLayer.services.redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(redisLayer.services.qwenbot.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    expect(redisLayer.services.qwenbot.environment.QWENBOT_STORE).toBe(
      `\${QWENBOT_STORE:-redis://redis:6379}`,
    );
    // A shared store refuses the instance name "default".
    expect(redisLayer.services.qwenbot.environment.QWENBOT_INSTANCE).toMatch(
      /^\$\{QWENBOT_INSTANCE:-(?!default)/,
    );
  });

  it('.env.example asks for the tokens of the mode the Slack manifest sets up', () => {
    const manifest = parse(read('config/slack-manifest.yaml'));
    const { set, commented } = envExample();
    expect(set).toEqual(expect.arrayContaining(['DASHSCOPE_API_KEY', 'DISCORD_TOKEN', 'SLACK_BOT_TOKEN']));
    if (manifest.settings.socket_mode_enabled) {
      expect(set).toContain('SLACK_APP_TOKEN');
      expect(commented).toContain('SLACK_SIGNING_SECRET');
    } else {
      expect(set).toContain('SLACK_SIGNING_SECRET');
      expect(commented).toContain('SLACK_APP_TOKEN');
    }
    expect(commented).toEqual(expect.arrayContaining(['QWEN_REGION', 'QWEN_MODEL', 'QWENBOT_CONFIG']));
  });
});
