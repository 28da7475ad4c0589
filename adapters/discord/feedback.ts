/**
 * 👍 / 👎 on Discord: a row of two buttons on the answer's last message (the final edit puts it where
 * the Stop row was), a press answered privately, and a 👎 that opens a one-line modal when the bot asks
 * for reasons. The custom id carries the vote and the answer's model; the message it is on is the
 * answer's id, and its channel the conversation.
 */
import {
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APIModalInteractionResponseCallbackData,
  type ButtonInteraction,
  ButtonStyle,
  ComponentType,
  MessageFlags,
  type ModalSubmitInteraction,
  TextInputStyle,
} from 'discord.js';
import { REASON_MAX_CHARS, type Vote } from '../../src/core/feedback.ts';
import type { ChatService } from '../../src/core/service.ts';
import type { Author, ConversationRef, FeedbackTag } from '../../src/core/types.ts';
import { type Locale, t, toLocale } from '../../src/i18n.ts';
import type { Logger } from '../../src/log.ts';

export const FEEDBACK_PREFIX = 'qwenbot:fb';
export const REASON_PREFIX = 'qwenbot:fbr';
export const REASON_FIELD = 'reason';
/** Discord's limit on a component's custom id. */
const CUSTOM_ID_MAX = 100;

const customId = (prefix: string, model: string) => `${prefix}:${model}`.slice(0, CUSTOM_ID_MAX);

export function feedbackRow(tag: FeedbackTag): APIActionRowComponent<APIComponentInMessageActionRow> {
  const button = (vote: Vote, emoji: string) => ({
    type: ComponentType.Button as const,
    style: ButtonStyle.Secondary as const,
    emoji: { name: emoji },
    custom_id: customId(`${FEEDBACK_PREFIX}:${vote}`, tag.model),
  });
  return { type: ComponentType.ActionRow, components: [button('up', '👍'), button('down', '👎')] };
}

export function reasonModal(model: string, locale: Locale): APIModalInteractionResponseCallbackData {
  return {
    custom_id: customId(REASON_PREFIX, model),
    title: t(locale, 'feedback.reason_title'),
    components: [
      {
        type: ComponentType.Label,
        label: t(locale, 'feedback.reason_label'),
        component: {
          type: ComponentType.TextInput,
          custom_id: REASON_FIELD,
          style: TextInputStyle.Short,
          required: false,
          max_length: REASON_MAX_CHARS,
          placeholder: t(locale, 'feedback.reason_placeholder'),
        },
      },
    ],
  };
}

export interface FeedbackDeps {
  service: ChatService;
  log: Logger;
  author: Author;
  conversation: ConversationRef;
}

/** `qwenbot:fb:<vote>:<model>` → the vote and the model. */
function parse(id: string, prefix: string): string {
  return id.slice(prefix.length + 1);
}

export async function pressFeedback(interaction: ButtonInteraction, deps: FeedbackDeps): Promise<void> {
  const locale = toLocale(interaction.locale);
  const feedback = deps.service.feedback;
  const rest = parse(interaction.customId, FEEDBACK_PREFIX);
  const vote: Vote = rest.startsWith('down:') ? 'down' : 'up';
  const model = rest.slice(vote.length + 1);
  if (!feedback?.enabled) {
    await interaction.reply({ content: t(locale, 'feedback.off'), flags: MessageFlags.Ephemeral });
    return;
  }
  const input = {
    conversation: deps.conversation,
    answerId: interaction.message.id,
    model,
    voter: deps.author,
    vote,
  };
  if (vote === 'down' && feedback.askReason) {
    // The modal must be the press's first answer (within 3 s); the 👎 is stored right after, also when
    // the modal could not be shown (the press is what counts).
    const shown = await interaction
      .showModal(reasonModal(model, locale))
      .then(() => true)
      .catch((err: unknown) => {
        deps.log.warn({ err }, 'could not show the feedback modal; storing the 👎 without it');
        return false;
      });
    const outcome = await feedback.vote(input, locale);
    if (!outcome.stored) deps.log.warn({ answer: input.answerId }, 'feedback not stored');
    if (!shown) await interaction.reply({ content: outcome.line, flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const outcome = await feedback.vote(input, locale);
  await interaction.editReply({ content: outcome.line });
}

export async function submitReason(interaction: ModalSubmitInteraction, deps: FeedbackDeps): Promise<void> {
  const locale = toLocale(interaction.locale);
  const feedback = deps.service.feedback;
  const answerId = interaction.message?.id;
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  if (!feedback?.enabled || !answerId) {
    await interaction.editReply({
      content: t(locale, feedback?.enabled ? 'feedback.failed' : 'feedback.off'),
    });
    return;
  }
  const line = await feedback.reason(
    {
      conversation: deps.conversation,
      answerId,
      model: parse(interaction.customId, REASON_PREFIX),
      voter: deps.author,
      reason: interaction.fields.getTextInputValue(REASON_FIELD),
    },
    locale,
  );
  await interaction.editReply({ content: line });
}
