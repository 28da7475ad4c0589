import { existsSync, type FSWatcher, statSync, watch } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { QwenClient } from '../qwen/client.ts';
import type { Store } from '../store/index.ts';
import { type FaqEntry, loadFaq } from './loader.ts';
import { embedCached, pruneVectors } from './vector-cache.ts';
import { VectorIndex } from './vector-index.ts';

export type FaqSettings = Config['faq'];

export interface FaqDeps {
  config: Config;
  store: Store;
  qwen: QwenClient;
  log: Logger;
  /** Quiet time after a file change before re-indexing (ms). */
  watchDebounceMs?: number;
}

export interface FaqMatch {
  entry: FaqEntry;
  /** Cosine similarity of the entry's best phrasing. */
  score: number;
  /** The phrasing that matched best (the question or one of its alternatives). */
  phrasing: string;
}

export type FaqBand = 'confident' | 'suggest' | 'none';

export interface FaqLookup {
  band: FaqBand;
  /** Best first; at most `suggestCount` (at least 1 when the FAQ has entries). */
  matches: FaqMatch[];
}

export interface IndexStats {
  entries: number;
  phrasings: number;
  /** Phrasings embedded by this (re)index; the rest came from the store. */
  embedded: number;
  ms: number;
}

interface Built {
  entries: FaqEntry[];
  phrasings: string[];
  index: VectorIndex;
}

/** Resolves faq.path: absolute as is; relative to the working directory, else to the install folder. */
export function resolveFaqPath(p: string): string {
  if (path.isAbsolute(p)) return p;
  const fromCwd = path.resolve(p);
  if (existsSync(fromCwd)) return fromCwd;
  const fromRoot = path.resolve(PACKAGE_ROOT, p);
  return existsSync(fromRoot) ? fromRoot : fromCwd;
}

/**
 * The FAQ: entries from a file or folder, one vector per phrasing in a VectorIndex, vectors cached in
 * the store by content hash. Index builds run one at a time; a new index replaces the old one whole, so
 * lookups during a reload see the previous FAQ.
 */
export class Faq {
  readonly settings: FaqSettings;
  readonly source: string;
  private readonly deps: FaqDeps;
  private readonly log: Logger;
  private built: Built | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private startup: Promise<void> = Promise.resolve();
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private readonly controller = new AbortController();
  private closed = false;

  constructor(deps: FaqDeps) {
    this.deps = deps;
    this.settings = deps.config.faq;
    this.source = resolveFaqPath(this.settings.path);
    this.log = deps.log.child({ component: 'faq' });
  }

  get enabled(): boolean {
    return this.settings.enabled;
  }

  /** The model may call `search_faq` in chat. */
  get toolEnabled(): boolean {
    return this.settings.enabled && this.settings.tool;
  }

  get entries(): FaqEntry[] {
    return this.built?.entries ?? [];
  }

  /**
   * Reads the FAQ (a malformed file throws FaqFileError: start-up stops), then indexes it in the
   * background — `ready()` resolves when done — and watches the source when configured.
   */
  start(): void {
    if (!this.enabled) return;
    const entries = loadFaq(this.source);
    this.startup = this.serial(() => this.build(entries)).then(
      () => undefined,
      (err: unknown) => this.log.error({ err }, 'faq: indexing failed; /faq will retry'),
    );
    if (this.settings.watch) this.watch();
  }

  /** Resolves when the start-up indexing has finished (or failed and was logged). */
  ready(): Promise<void> {
    return this.startup;
  }

  /** Re-reads the source and re-indexes; only new or changed phrasings are embedded. */
  reload(): Promise<IndexStats> {
    return this.serial(() => this.build(loadFaq(this.source)));
  }

  /** The best entries for a question, best first. */
  async search(question: string, k: number): Promise<FaqMatch[]> {
    const built = await this.current();
    if (built.entries.length === 0) return [];
    const [vector] = await this.deps.qwen.embed([question], this.controller.signal);
    return built.index.search(vector ?? [], k).map((hit) => ({
      entry: built.entries[hit.group] as FaqEntry,
      score: hit.score,
      phrasing: built.phrasings[hit.row] ?? '',
    }));
  }

  /** Ranks a question into the confident / "did you mean" / no-match bands. */
  async lookup(question: string): Promise<FaqLookup> {
    const matches = await this.search(question, this.settings.suggestCount);
    const best = matches[0]?.score ?? Number.NEGATIVE_INFINITY;
    if (best >= this.settings.confidentThreshold) return { band: 'confident', matches };
    if (best >= this.settings.suggestThreshold) {
      return { band: 'suggest', matches: matches.filter((m) => m.score >= this.settings.suggestThreshold) };
    }
    return { band: 'none', matches };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.debounce);
    this.watcher?.close();
    this.controller.abort();
    await this.chain.catch(() => undefined);
  }

  /** The index, building it first when start-up indexing failed (the error then reaches the caller). */
  private async current(): Promise<Built> {
    await this.startup;
    if (!this.built) await this.serial(() => this.build(loadFaq(this.source)));
    return this.built as Built;
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async build(entries: FaqEntry[]): Promise<IndexStats> {
    const started = Date.now();
    const { config, store, qwen } = this.deps;
    const groups = entries.map((e) => [...new Set([e.question, ...e.alternatives])]);
    const phrasings = groups.flat();
    const { vectors, embedded } = await embedCached(phrasings, {
      store,
      qwen,
      log: this.log,
      signal: this.controller.signal,
      settings: {
        model: config.qwen.embeddingModel,
        dimensions: config.qwen.embeddingDimensions,
        concurrency: config.qwen.embeddingConcurrency,
      },
    });
    const embedding = { model: config.qwen.embeddingModel, dimensions: config.qwen.embeddingDimensions };
    // A failure here costs only disk space: the index is still built.
    await pruneVectors(phrasings, { store, log: this.log, settings: embedding }).catch((err: unknown) =>
      this.log.warn({ err }, 'faq: could not delete the vectors of removed phrasings'),
    );
    const index = new VectorIndex(
      config.qwen.embeddingDimensions,
      groups.map((g) => g.length),
    );
    phrasings.forEach((text, row) => {
      const v = vectors.get(text);
      if (v) index.setRow(row, v);
    });
    this.built = { entries, phrasings, index };
    const stats = {
      entries: entries.length,
      phrasings: phrasings.length,
      embedded,
      ms: Date.now() - started,
    };
    this.log.info({ ...stats, source: this.source, simd: index.simd }, 'faq: index ready');
    return stats;
  }

  private watch(): void {
    const isDir = statSync(this.source).isDirectory();
    // Watch the folder that holds a file: editors often replace the file, which ends a watch on it.
    const target = isDir ? this.source : path.dirname(this.source);
    const name = path.basename(this.source);
    try {
      this.watcher = watch(target, (_event, file) => {
        if (!isDir && file !== null && file !== name) return;
        if (isDir && file !== null && !file.toLowerCase().endsWith('.md')) return;
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => this.onChange(), this.deps.watchDebounceMs ?? 500);
      });
      this.watcher.on('error', (err) => this.log.warn({ err }, 'faq: watching stopped'));
    } catch (err) {
      this.log.warn({ err, source: target }, 'faq: cannot watch for changes; use /faq reload');
    }
  }

  private onChange(): void {
    if (this.closed) return;
    this.reload().then(
      (stats) => this.log.info(stats, 'faq: reloaded after a file change'),
      (err: unknown) =>
        this.log.error({ err }, 'faq: reload after a file change failed; keeping the old FAQ'),
    );
  }
}

/** The factory the app calls at start-up. Throws FaqFileError for a malformed FAQ. */
export function createFaq(deps: FaqDeps): Faq {
  const faq = new Faq(deps);
  faq.start();
  return faq;
}
