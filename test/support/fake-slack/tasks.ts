/** `task_update` chunks of Slack's streaming methods, as the fake keeps them on a streamed message. */
import type { FakeMessage } from './model.ts';

type Params = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

const TASK_STATUSES = new Set(['pending', 'in_progress', 'complete', 'error']);

/**
 * Applies the `task_update` chunks of a stream call to the message; false when one is malformed (Slack
 * answers `invalid_arguments`). Returns how many there were.
 */
export function applyTasks(m: FakeMessage | undefined, p: Params): number | false {
  const chunks = (Array.isArray(p.chunks) ? p.chunks : []) as Array<Record<string, unknown>>;
  const tasks = chunks.filter((c) => c.type === 'task_update');
  for (const t of tasks) {
    if (!str(t.id) || !str(t.title) || !TASK_STATUSES.has(String(t.status))) return false;
  }
  if (m) {
    m.tasks ??= new Map();
    m.taskUpdates ??= [];
    for (const t of tasks) {
      m.tasks.set(String(t.id), { title: String(t.title), status: String(t.status) });
      m.taskUpdates.push(`${String(t.title)}: ${String(t.status)}`);
    }
  }
  return tasks.length;
}
