import type { webApi } from '@slack/bolt';
import type { Author } from '../../src/core/types.ts';
import type { Logger } from '../../src/log.ts';

const TTL_MS = 10 * 60_000;
const MAX_ENTRIES = 5000;

/**
 * Who a Slack user is, from `users.info` (cached for a few minutes): the display name the model sees,
 * whether they administer the workspace (admin/owner), and their locale. Failures fall back to the id.
 */
export class UserDirectory {
  private readonly client: webApi.WebClient;
  private readonly admins: Set<string>;
  private readonly log: Logger;
  private readonly cache = new Map<string, { author: Author; until: number }>();

  constructor(client: webApi.WebClient, admins: string[], log: Logger) {
    this.client = client;
    this.admins = new Set(admins);
    this.log = log;
  }

  async get(id: string): Promise<Author> {
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && hit.until > now) return hit.author;
    let author: Author = { id, name: id, isBot: false, isAdmin: this.admins.has(id) };
    try {
      const res = await this.client.users.info({ user: id, include_locale: true });
      const u = res.user;
      if (u) {
        author = {
          id,
          name: u.profile?.display_name || u.real_name || u.name || id,
          isBot: u.is_bot === true,
          isAdmin:
            u.is_admin === true || u.is_owner === true || u.is_primary_owner === true || this.admins.has(id),
          ...(u.locale ? { locale: u.locale } : {}),
        };
      }
    } catch (err) {
      this.log.warn({ err, user: id }, 'users.info failed; using the user id as name');
      return author;
    }
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(id, { author, until: now + TTL_MS });
    return author;
  }

  /** Display names for `<@U…>` mentions in a user's text, so the model reads names, not ids. */
  async names(ids: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const id of ids.slice(0, 10)) out.set(id, (await this.get(id)).name);
    return out;
  }
}
