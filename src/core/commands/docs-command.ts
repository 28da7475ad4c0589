import type { Config } from '../../config/schema.ts';
import { t } from '../../i18n.ts';
import { formatSize } from '../document-intake.ts';
import type { DocumentStore } from '../documents.ts';
import { conversationKey } from '../types.ts';
import type { CommandSpec } from './registry.ts';

/**
 * `/docs` lists the documents this conversation answers from (name, size, when posted); `/docs clear`
 * forgets them here and deletes them at DashScope. Everyone in the conversation sees the same list.
 */
export function docsCommand(deps: { config: Config; documents: DocumentStore }): CommandSpec {
  return {
    name: 'docs',
    description: 'List the documents this conversation answers from, or forget them (clear)',
    options: [{ name: 'action', description: 'clear: forget them', type: 'string', choices: ['clear'] }],
    access: 'everyone',
    ephemeral: false,
    readOnly: (options) => options.action !== 'clear',
    handler: async ({ invocation, options, locale, spell }) => {
      const key = conversationKey(invocation.conversation);
      if (options.action === 'clear') {
        const count = await deps.documents.clear(key);
        return { text: t(locale, 'documents.cleared', { count }) };
      }
      const docs = await deps.documents.list(key);
      if (!docs.length) return { text: t(locale, 'documents.none') };
      const lines = docs.map(
        (d) =>
          `• ${d.name} — ${formatSize(d.bytes)}, ${new Date(d.at).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      );
      return {
        text: [t(locale, 'documents.list', { model: deps.config.documents.model }, spell), ...lines].join(
          '\n',
        ),
      };
    },
  };
}
