/**
 * Which speller each platform uses for command references in the core's lines (refusals, command
 * replies, error lines, help). An adapter whose commands are typed differently registers its own
 * (`service.spellCommandsAs('slack', …)`); every other platform writes `/name`.
 */
import { type CommandSpeller, slashCommand } from '../../i18n.ts';

export type { CommandSpeller } from '../../i18n.ts';

export class CommandSpelling {
  private readonly spellers = new Map<string, CommandSpeller>();

  use(platform: string, speller: CommandSpeller): void {
    this.spellers.set(platform, speller);
  }

  of(platform: string): CommandSpeller {
    return this.spellers.get(platform) ?? slashCommand;
  }
}
