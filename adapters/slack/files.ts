import type { Attachment } from '../../src/core/types.ts';
import { downloadLimited } from '../../src/platform-download.ts';

/** The part of a Slack file object the adapter reads. */
export interface SlackFile {
  id?: string;
  name?: string;
  title?: string;
  mimetype?: string;
  size?: number;
  url_private?: string;
  url_private_download?: string;
  /** `slack_audio` for a clip recorded in Slack (mimetype audio/mp4, sometimes labelled video/mp4). */
  subtype?: string;
  /** Length of an audio or video clip. */
  duration_ms?: number;
}

/** A clip recorded in Slack, or any audio file: transcribed by the core (src/core/voice.ts). */
function voiceOf(f: SlackFile): { voice: { seconds?: number } } | undefined {
  const audio = typeof f.mimetype === 'string' && f.mimetype.startsWith('audio/');
  if (f.subtype !== 'slack_audio' && !audio) return undefined;
  const ms = f.duration_ms;
  return { voice: typeof ms === 'number' && ms > 0 ? { seconds: ms / 1000 } : {} };
}

/** Hard cap on one download, whatever the core asks for later (DashScope takes 10 MB per image). */
export const MAX_DOWNLOAD_BYTES = 10 * 1024 * 1024;

/**
 * Slack files as core attachments. Bytes are fetched only when the core asks, with the bot token,
 * and only from Slack's own hosts (or the configured API host), so the token never leaves Slack.
 */
export function slackAttachments(
  files: SlackFile[] | undefined,
  token: string,
  apiUrl: string | undefined,
  timeoutMs: number,
): Attachment[] {
  const trusted = new Set<string>();
  if (apiUrl) trusted.add(new URL(apiUrl).host);
  return (files ?? []).flatMap((f) => {
    const url = f.url_private_download ?? f.url_private;
    if (!url) return [];
    return [
      {
        name: f.name ?? f.title ?? f.id ?? 'file',
        mime: f.mimetype ?? '',
        size: f.size ?? 0,
        load: () => download(url, token, trusted, timeoutMs),
        ...voiceOf(f),
      },
    ];
  });
}

async function download(
  url: string,
  token: string,
  trusted: Set<string>,
  timeoutMs: number,
): Promise<Uint8Array> {
  const target = new URL(url);
  const slackHost = /(^|\.)slack(-gov)?\.com$/.test(target.hostname) && target.protocol === 'https:';
  if (!slackHost && !trusted.has(target.host))
    throw new Error(`refusing to send the bot token to ${target.host}`);
  return downloadLimited(target, {
    maxBytes: MAX_DOWNLOAD_BYTES,
    timeoutMs,
    headers: { Authorization: `Bearer ${token}` },
    check: (res) => {
      // Without files:read Slack answers with its HTML login page instead of the file.
      const html = (res.headers.get('content-type') ?? '').startsWith('text/html');
      if (html && !/\.html?$/i.test(target.pathname))
        throw new Error('Slack returned a web page instead of the file (is the files:read scope granted?)');
    },
  });
}
