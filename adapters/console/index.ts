export { answerChatFlags, chatCliInfo } from './cli.ts';
export { type ConsoleOptions, consoleAuthor, consoleConversation, sendConsoleMessage } from './message.ts';
export { type InteractiveOptions, runInteractive } from './session.ts';
export { ConsoleSurface, rendersMarkdown } from './surface.ts';
