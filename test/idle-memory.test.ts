/**
 * The bot gives memory back when it goes quiet (src/util/idle-memory.ts): V8's own memory reducer waits
 * for a low allocation rate it only measures at collections, so a quiet process would keep the pages a
 * busy period grew. Readings and gc() are fakes here; the memory benchmark measures the real effect.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type GcFunction, IdleMemoryRelease } from '../src/util/idle-memory.ts';

const MB = 1024 * 1024;

/** A process whose CPU time and RSS the test sets; gc() takes 100 ms and brings RSS down to `afterGcRss`. */
function fakeProcess() {
  const state = { cpuMs: 500, rss: 160 * MB, afterGcRss: 100 * MB };
  const gc = vi.fn<GcFunction>(() => {
    state.rss = state.afterGcRss;
    state.cpuMs += 100;
  });
  return { state, gc, read: () => ({ cpuMs: state.cpuMs, rss: state.rss }) };
}

describe('giving memory back when quiet', () => {
  let watcher: IdleMemoryRelease | undefined;
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    watcher?.stop();
    vi.useRealTimers();
  });

  it('runs one memory-reducing collection once the process is quiet, not before', () => {
    const p = fakeProcess();
    const released: Array<[number, number]> = [];
    watcher = new IdleMemoryRelease({
      read: p.read,
      gc: p.gc,
      intervalMs: 1000,
      onRelease: (before, after) => released.push([before, after]),
    });
    // Busy: hundreds of ms of CPU between looks (whether the heap grew or a collection shrank it).
    for (let i = 0; i < 5; i++) {
      p.state.cpuMs += 400;
      vi.advanceTimersByTime(1000);
    }
    expect(p.gc).not.toHaveBeenCalled();
    // Quiet: one look with almost no CPU (a heartbeat).
    p.state.cpuMs += 5;
    vi.advanceTimersByTime(1000);
    expect(p.gc).toHaveBeenCalledTimes(1);
    expect(p.gc).toHaveBeenCalledWith({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    expect(released).toEqual([[160 * MB, 100 * MB]]);
    // Still quiet: nothing more to give back, so no more collections.
    vi.advanceTimersByTime(10_000);
    expect(p.gc).toHaveBeenCalledTimes(1);
  });

  it('releases again after the next busy period has grown the resident size', () => {
    const p = fakeProcess();
    watcher = new IdleMemoryRelease({ read: p.read, gc: p.gc, intervalMs: 1000 });
    vi.advanceTimersByTime(2000);
    expect(p.gc).toHaveBeenCalledTimes(1);
    // A small answer: a little CPU, RSS up by less than the slack.
    p.state.cpuMs += 30;
    p.state.rss += 3 * MB;
    vi.advanceTimersByTime(3000);
    expect(p.gc).toHaveBeenCalledTimes(1);
    // A burst: RSS 60 MB up, then quiet.
    p.state.cpuMs += 2000;
    p.state.rss += 60 * MB;
    vi.advanceTimersByTime(1000);
    expect(p.gc).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    expect(p.gc).toHaveBeenCalledTimes(2);
  });

  it('does nothing in a process started without --expose-gc', () => {
    const read = vi.fn(() => ({ cpuMs: 0, rss: 500 * MB }));
    const hadGc = 'gc' in globalThis;
    expect(hadGc).toBe(false);
    watcher = new IdleMemoryRelease({ read });
    expect(watcher.active).toBe(false);
    vi.advanceTimersByTime(60_000);
    expect(read).not.toHaveBeenCalled();
  });
});
