/**
 * A person sending a Discord voice message: no content, the IS_VOICE_MESSAGE flag, and exactly one
 * `voice-message.ogg` attachment (audio/ogg) with its `duration_secs` and `waveform`, as the Discord
 * clients send them.
 */
import type { FakeDiscord } from './index.ts';
import type { FakeMessage, FakeUser } from './state.ts';

export const IS_VOICE_MESSAGE = 1 << 13;

export interface VoiceMessageOptions {
  author: FakeUser;
  channelId: string;
  /** The recording (test/support: `simVoiceClip`). */
  bytes: Uint8Array;
  seconds: number;
  /** Size Discord reports, when it should differ from the bytes (a limit test). */
  reportedSize?: number;
  replyTo?: string;
}

export function sayVoice(fake: FakeDiscord, o: VoiceMessageOptions): FakeMessage {
  const file = fake.addFile('voice-message.ogg', o.bytes, 'audio/ogg', o.reportedSize ?? o.bytes.length);
  // Clients sample the loudness at most every 100 ms, at most 256 points.
  const points = Math.min(256, Math.max(1, Math.round(o.seconds * 10)));
  const waveform = Buffer.from(Array.from({ length: points }, (_, i) => (i * 37) % 256)).toString('base64');
  return fake.say({
    author: o.author,
    channelId: o.channelId,
    content: '',
    flags: IS_VOICE_MESSAGE,
    attachments: [{ ...file, duration_secs: o.seconds, waveform }],
    ...(o.replyTo ? { replyTo: o.replyTo } : {}),
  });
}
