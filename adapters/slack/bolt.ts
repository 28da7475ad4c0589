/**
 * Bolt and the Web API client as the Slack adapter uses them: who the bot token belongs to
 * (`auth.test`, one clear line when it is refused), client options, and Bolt logging through pino.
 */
import { type Logger as BoltLogger, LogLevel, type webApi } from '@slack/bolt';
import type { Logger } from '../../src/log.ts';
import { AUTH_ERRORS, SlackStartError } from './socket-link.ts';

/** Web API client options: brief network retries, 429s waited out inside the client, the API base. */
export function webClientOptions(
  boltLogger: BoltLogger,
  apiUrl: string | undefined,
): webApi.WebClientOptions {
  return {
    logger: boltLogger,
    // Network failures are retried briefly; 429s wait out Retry-After inside the client.
    retryConfig: { retries: 3, factor: 2, minTimeout: 250, maxTimeout: 4000, randomize: true },
    ...(apiUrl ? { slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` } : {}),
  };
}

export interface AuthInfo {
  teamId: string;
  team: string;
  userId: string;
  user: string;
  botId?: string;
}

/** `auth.test` with the bot token: who we are, or one clear line when the token or URL is wrong. */
export async function authenticate(client: webApi.WebClient, apiUrl: string | undefined): Promise<AuthInfo> {
  try {
    const res = await client.auth.test();
    if (!res.team_id || !res.user_id)
      throw new SlackStartError('auth.test did not return the workspace and bot user');
    return {
      teamId: res.team_id,
      team: res.team ?? res.team_id,
      userId: res.user_id,
      user: res.user ?? res.user_id,
      ...(res.bot_id ? { botId: res.bot_id } : {}),
    };
  } catch (err) {
    if (err instanceof SlackStartError) throw err;
    const code = (err as { data?: { error?: string } }).data?.error;
    if (code && AUTH_ERRORS.has(code)) {
      throw new SlackStartError(
        `SLACK_BOT_TOKEN was refused by Slack (${code}): use the Bot User OAuth Token (xoxb-…) of the installed app`,
      );
    }
    const where = apiUrl ?? 'https://slack.com/api/';
    throw new SlackStartError(`Slack API at ${where} could not be used: ${code ?? (err as Error).message}`, {
      cause: err,
    });
  }
}

/** Bolt and the Web API client log through our pino logger (their chatter at debug). */
export function toBoltLogger(log: Logger): BoltLogger {
  let level = LogLevel.INFO;
  return {
    debug: (...msg: unknown[]) => log.debug(msg.map(String).join(' ')),
    info: (...msg: unknown[]) => log.debug(msg.map(String).join(' ')),
    warn: (...msg: unknown[]) => log.warn(msg.map(String).join(' ')),
    error: (...msg: unknown[]) => log.error(msg.map(String).join(' ')),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
