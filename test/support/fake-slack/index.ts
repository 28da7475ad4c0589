export { pressFeedback, submitView } from './interactions.ts';
export type { Shown } from './model.ts';
export {
  assistantContextChanged,
  edited,
  eventBody,
  messageShortcut,
  openAssistant,
  openMessagesTab,
  pressButton,
  type Said,
  type SayOptions,
  say,
  slash,
} from './people.ts';
export { type Call, DEFAULT_TIERS, FakeSlack, type FakeSlackOptions, type Tier } from './server.ts';
export { SignedSender, slackSignature } from './signed.ts';
