import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { envRef } from '../support/mcp-servers.ts';

const load = (servers: Record<string, unknown>, env: Record<string, string> = {}) =>
  loadConfig({ file: null, env, overrides: { mcp: { servers } } });

describe('mcp.servers in config', () => {
  it('expands environment references in env and headers values, anywhere in the value', () => {
    const config = load(
      {
        weather: { command: 'weather-mcp', env: { API_KEY: envRef('WEATHER_KEY'), MODE: 'metric' } },
        docs: {
          url: 'https://mcp.example.com/mcp',
          headers: { Authorization: `Bearer ${envRef('DOCS_TOKEN')}` },
        },
      },
      { WEATHER_KEY: 'wk-123', DOCS_TOKEN: 'dt-456' },
    );
    expect(config.mcp.servers.weather).toMatchObject({
      env: { API_KEY: 'wk-123', MODE: 'metric' },
      args: [],
    });
    expect(config.mcp.servers.docs).toMatchObject({ headers: { Authorization: 'Bearer dt-456' } });
    expect(config.tools).toEqual({ maxSteps: 5, callTimeoutMs: 30_000, resultMaxChars: 8000 });
  });

  it('an unset variable stops loading with the key and the variable named', () => {
    const bad = () => load({ weather: { command: 'weather-mcp', env: { API_KEY: envRef('WEATHER_KEY') } } });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow('mcp.servers.weather.env.API_KEY: environment variable WEATHER_KEY is not set');
    const header = () =>
      load({
        docs: {
          url: 'https://mcp.example.com/mcp',
          headers: { Authorization: `Bearer ${envRef('DOCS_TOKEN')}` },
        },
      });
    expect(header).toThrow(
      'mcp.servers.docs.headers.Authorization: environment variable DOCS_TOKEN is not set',
    );
  });

  it('bad tool limits name the key', () => {
    expect(() => loadConfig({ file: null, env: {}, overrides: { tools: { maxSteps: 0 } } })).toThrow(
      /^tools\.maxSteps: /,
    );
  });
});
