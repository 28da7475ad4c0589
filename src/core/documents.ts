import type { Logger } from '../log.ts';
import type { DocumentFilesPort } from '../qwen/files.ts';
import { type Store, storeCall } from '../store/index.ts';
import { KeyedQueue } from '../util/keyed-queue.ts';

/** One document a conversation answers from: a DashScope file id, found again by its content hash. */
export interface DocumentRecord {
  /** sha256 of the bytes: the same file posted again in this conversation is not uploaded again. */
  hash: string;
  fileId: string;
  name: string;
  bytes: number;
  /** When it was posted (ms). */
  at: number;
  /** Who posted it (`/forget` by that person deletes it). */
  authorId: string;
}

/** A DashScope file to delete: when it expires, and whether a deletion already failed. */
interface LedgerEntry {
  conversation: string;
  expiresAt: number;
  failures?: number;
}

interface Ledger {
  files: Record<string, LedgerEntry>;
}

const LEDGER_KEY = 'docs:v1:ledger';

/**
 * The documents of each conversation (`docs:v1:<conversation>`, expiring with its history) and the
 * ledger of every file this bot keeps at DashScope (`docs:v1:ledger`), which is how a file is deleted
 * there when it is forgotten (`/docs clear`, `/reset`, `/forget`) or its conversation's retention runs
 * out, and how a deletion that failed is tried again at the next sweep instead of being lost.
 *
 * The file-id cache is per conversation, not shared across a workspace: a conversation only ever
 * references the files posted in it, and deleting one never pulls a file from under another
 * conversation. Writes to a conversation's list run in its turn (the caller's `inTurn`); the ledger's
 * read-modify-writes are serialised in this process.
 */
export class DocumentStore {
  private readonly store: Store;
  private readonly files: DocumentFilesPort;
  private readonly retentionMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly ledgerQueue = new KeyedQueue();

  constructor(opts: {
    store: Store;
    files: DocumentFilesPort;
    retentionMs: number;
    now: () => number;
    log: Logger;
  }) {
    this.store = opts.store;
    this.files = opts.files;
    this.retentionMs = opts.retentionMs;
    this.now = opts.now;
    this.log = opts.log;
  }

  static key(conversation: string): string {
    return `docs:v1:${conversation}`;
  }

  get port(): DocumentFilesPort {
    return this.files;
  }

  async list(conversation: string): Promise<DocumentRecord[]> {
    const docs = await storeCall('load documents', () =>
      this.store.get<DocumentRecord[]>(DocumentStore.key(conversation)),
    );
    return docs ?? [];
  }

  /**
   * Adds uploaded documents to the conversation's list (in its turn) and keeps the list, and the
   * ledger's expiry of every file on it, alive for another retention period. A file whose hash is
   * already listed (uploaded twice by answers side by side) is deleted again at once.
   */
  async add(conversation: string, added: DocumentRecord[]): Promise<DocumentRecord[]> {
    const docs = await this.list(conversation);
    const duplicates: string[] = [];
    for (const doc of added) {
      if (docs.some((d) => d.hash === doc.hash)) duplicates.push(doc.fileId);
      else docs.push(doc);
    }
    await this.save(conversation, docs);
    if (duplicates.length) await this.forget(duplicates);
    return docs;
  }

  /** A question answered from the list: its files live another retention period. */
  async touch(conversation: string, docs: DocumentRecord[]): Promise<void> {
    if (docs.length) await this.save(conversation, docs);
  }

  /** Forgets every document of the conversation (`/docs clear`, `/reset`); returns how many. */
  async clear(conversation: string): Promise<number> {
    const docs = await this.list(conversation);
    if (!docs.length) return 0;
    await storeCall('clear documents', () => this.store.delete(DocumentStore.key(conversation)));
    await this.forget(docs.map((d) => d.fileId));
    return docs.length;
  }

  /** Forgets the documents one person posted in the conversation (`/forget`); returns how many. */
  async removeAuthor(conversation: string, authorId: string): Promise<number> {
    const docs = await this.list(conversation);
    const theirs = docs.filter((d) => d.authorId === authorId);
    if (!theirs.length) return 0;
    const kept = docs.filter((d) => d.authorId !== authorId);
    if (kept.length) await this.save(conversation, kept);
    else await storeCall('clear documents', () => this.store.delete(DocumentStore.key(conversation)));
    await this.forget(theirs.map((d) => d.fileId));
    return theirs.length;
  }

  /**
   * Deletes files at DashScope. One that fails stays in the ledger, marked, and is tried again by
   * `sweep`; the failure is logged, never shown to the person who asked to forget.
   */
  async forget(fileIds: string[]): Promise<void> {
    const deleted: string[] = [];
    const failed: string[] = [];
    for (const id of fileIds) {
      try {
        await this.files.remove(id);
        deleted.push(id);
      } catch (err) {
        failed.push(id);
        this.log.warn({ err, fileId: id }, 'documents: deleting a file at DashScope failed; retried later');
      }
    }
    await this.updateLedger((ledger) => {
      for (const id of deleted) delete ledger.files[id];
      for (const id of failed) {
        const entry = ledger.files[id] ?? { conversation: '', expiresAt: 0 };
        ledger.files[id] = { ...entry, expiresAt: 0, failures: (entry.failures ?? 0) + 1 };
      }
    });
  }

  /**
   * Deletes at DashScope every file whose conversation's retention ran out, and retries the deletions
   * that failed. Returns how many files were deleted.
   */
  async sweep(): Promise<number> {
    const ledger = await this.readLedger();
    const now = this.now();
    const entries = Object.entries(ledger.files).filter(([, e]) => e.expiresAt <= now);
    if (!entries.length) return 0;
    const due = entries.map(([id]) => id);
    // A list shares one expiry: an expired file's conversation lists nothing that is still alive.
    const expired = new Set(
      entries.filter(([, e]) => !e.failures && e.conversation).map(([, e]) => e.conversation),
    );
    for (const conversation of expired)
      await storeCall('clear documents', () => this.store.delete(DocumentStore.key(conversation)));
    await this.forget(due);
    const after = await this.readLedger();
    return due.filter((id) => !after.files[id]).length;
  }

  /** Files the ledger still has to delete (failed tries), for logs and tests. */
  async pendingDeletions(): Promise<string[]> {
    const ledger = await this.readLedger();
    return Object.entries(ledger.files)
      .filter(([, e]) => (e.failures ?? 0) > 0)
      .map(([id]) => id);
  }

  private async save(conversation: string, docs: DocumentRecord[]): Promise<void> {
    await storeCall('save documents', () =>
      this.store.set(DocumentStore.key(conversation), docs, this.retentionMs),
    );
    const expiresAt = this.now() + this.retentionMs;
    await this.updateLedger((ledger) => {
      for (const d of docs) {
        const entry = ledger.files[d.fileId];
        // A file whose deletion failed is not brought back.
        if (!entry?.failures) ledger.files[d.fileId] = { conversation, expiresAt };
      }
    });
  }

  private async readLedger(): Promise<Ledger> {
    const ledger = await storeCall('load document ledger', () => this.store.get<Ledger>(LEDGER_KEY));
    return ledger ?? { files: {} };
  }

  private updateLedger(change: (ledger: Ledger) => void): Promise<void> {
    return this.ledgerQueue.run(LEDGER_KEY, async () => {
      const ledger = await this.readLedger();
      change(ledger);
      await storeCall('save document ledger', () => this.store.set(LEDGER_KEY, ledger));
    });
  }
}

/** Sweeps the ledger every `intervalMs` (0: only when called); failures are logged, never thrown. */
export function startDocumentSweeper(
  docs: DocumentStore,
  opts: { intervalMs: number; log: Logger },
): { sweep(): Promise<number>; stop(): void } {
  const sweep = () =>
    docs.sweep().catch((err: unknown) => {
      opts.log.warn({ err }, 'documents: sweeping the file ledger failed; trying again later');
      return 0;
    });
  const timer = opts.intervalMs > 0 ? setInterval(() => void sweep(), opts.intervalMs) : undefined;
  timer?.unref();
  return { sweep, stop: () => timer && clearInterval(timer) };
}
