/** The bot's invite link and the permission names config may use. */
import { PermissionFlagsBits, type PermissionResolvable, PermissionsBitField } from 'discord.js';

/** What the bot needs in a channel: see it, talk (also in threads), and reply to messages. */
export const INVITE_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.ReadMessageHistory;
export const INVITE_SCOPES = ['bot', 'applications.commands'] as const;

export function inviteUrl(applicationId: string): string {
  const params = new URLSearchParams({
    client_id: applicationId,
    scope: INVITE_SCOPES.join(' '),
    permissions: INVITE_PERMISSIONS.toString(),
  });
  return `https://discord.com/oauth2/authorize?${params.toString()}`;
}

/** A discord.js permission name (e.g. ManageGuild) as a bitfield, or an error naming the config key. */
export function resolvePermission(name: string): bigint {
  if (!Object.hasOwn(PermissionFlagsBits, name)) {
    throw new Error(
      `discord.adminPermission: "${name}" is not a Discord permission name (for example ManageGuild, Administrator, ManageChannels)`,
    );
  }
  return PermissionsBitField.resolve(name as PermissionResolvable);
}
