/**
 * One process per SQLite store file. Two processes on one file would each keep their own per-conversation
 * queue and in-flight records (one would "repair" the other's live answers), so the second is refused.
 *
 * The lock is SQLite's own (an OS file lock) on a small file next to the database, `<file>.lock`, held
 * for as long as the store is open: the operating system releases it when the process ends, however it
 * ends, so a crash never leaves a stale lock and a reused pid never looks alive. The holder's pid is
 * kept in the lock file's header (`user_version`) so the refusal can name it. The file stays after a
 * clean stop (deleting it could let two processes lock two different files). Within one process the
 * lock is shared: opening the same file twice (tests, a restart in place) is allowed.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** The store file is held by another running process. */
export class StoreLockedError extends Error {
  readonly pid: number | undefined;
  constructor(message: string, pid: number | undefined) {
    super(message);
    this.pid = pid;
  }
}

interface Held {
  db: DatabaseSync;
  users: number;
}

const held = new Map<string, Held>();

/** `user_version` sits at byte 60 of a SQLite file's header, big-endian. */
const USER_VERSION_OFFSET = 60;

/**
 * Takes the lock of the store file `file` (path of the SQLite database) and returns its release, or
 * throws StoreLockedError naming the process that has it.
 */
export function lockStoreFile(file: string): () => void {
  const lockPath = `${path.resolve(file)}.lock`;
  let entry = held.get(lockPath);
  if (!entry) {
    entry = { db: takeLock(lockPath, file), users: 0 };
    held.set(lockPath, entry);
  }
  entry.users++;
  const mine = entry;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    mine.users--;
    if (mine.users > 0) return;
    held.delete(lockPath);
    mine.db.close();
  };
}

function takeLock(lockPath: string, file: string): DatabaseSync {
  const db = new DatabaseSync(lockPath, { timeout: 0 });
  try {
    // EXCLUSIVE locking keeps the write lock taken by the first write until the connection closes.
    db.exec('PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = MEMORY;');
    db.exec(`PRAGMA user_version = ${process.pid}`);
    return db;
  } catch (err) {
    db.close();
    const code = (err as { errcode?: number; code?: string }).errcode;
    const busy = code === 5 || /locked|busy/i.test((err as Error).message);
    if (!busy) throw err;
    const pid = holderPid(lockPath);
    throw new StoreLockedError(
      `QWENBOT_STORE: ${file} is in use by another qwenbot process${pid ? ` (pid ${pid})` : ''}; ` +
        'stop it first, or give this one its own store (one SQLite file serves one process; use Redis for several)',
      pid,
    );
  }
}

function holderPid(lockPath: string): number | undefined {
  try {
    const fd = openSync(lockPath, 'r');
    try {
      const bytes = Buffer.alloc(4);
      if (readSync(fd, bytes, 0, 4, USER_VERSION_OFFSET) !== 4) return undefined;
      const pid = bytes.readUInt32BE(0);
      return pid > 0 ? pid : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}
