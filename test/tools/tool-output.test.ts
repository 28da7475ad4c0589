import { describe, expect, it } from 'vitest';
import { functionName, resultText, truncate } from '../../src/tools/tool-output.ts';

describe('tool names and results for the model', () => {
  it('names a server tool server__tool; odd characters, long names and clashes still give valid, distinct names', () => {
    const taken = new Set<string>();
    const take = (server: string, tool: string) => {
      const name = functionName(server, tool, taken);
      taken.add(name);
      return name;
    };
    expect(take('weather', 'get_forecast')).toBe('weather__get_forecast');
    const dotted = take('files', 'read.file');
    const underscored = take('files', 'read_file');
    expect(dotted).toBe('files__read_file');
    expect(underscored).not.toBe(dotted);
    const long = take('my-server', 'x'.repeat(100));
    for (const name of [dotted, underscored, long]) expect(name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(take('my-server', 'x'.repeat(99))).not.toBe(long);
  });

  it('passes text on, names what it cannot pass, and cuts long results inside the budget with a marker', () => {
    expect(
      resultText({
        content: [
          { type: 'text', text: 'Sunny' },
          { type: 'image', data: 'AAAA', mimeType: 'image/png' },
          { type: 'resource', resource: { uri: 'file:///a.txt', text: 'inside' } },
          { type: 'resource_link', uri: 'file:///b.txt', name: 'b.txt' },
        ],
      }),
    ).toBe('Sunny\n[image image/png not shown]\ninside\n[link file:///b.txt b.txt]');
    expect(resultText({ content: [], structuredContent: { temp: 24 } })).toBe('{"temp":24}');
    const cut = truncate('y'.repeat(1000), 300);
    expect(cut.length).toBeLessThanOrEqual(300);
    expect(cut).toMatch(/^y+\n…\[cut: \d+ of 1000 characters shown\]$/);
    expect(truncate('short', 300)).toBe('short');
  });
});
