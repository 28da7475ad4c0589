/**
 * Slack audio clips end to end: a clip recorded in Slack is a file share (subtype slack_audio,
 * audio/mp4, duration_ms) fetched with the bot token, transcribed by the simulator's qwen3-asr-flash,
 * and answered through real Bolt like typed text, with the transcript quoted first.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type SimClipOptions, simVoiceClip } from '../../src/sim/sim-asr.ts';
import type { FakeFile } from '../support/fake-slack/server.ts';
import { type Rig, startRig } from './rig.ts';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => rig?.close());

const DM = 'D0ALICE';
const CHANNEL = 'C0GENERAL';
const bot = () => `<@${rig.fake.bot.userId}>`;

/** A clip as Slack's client records it. */
function clip(transcript: string, seconds: number, options: SimClipOptions = {}): FakeFile {
  const bytes = simVoiceClip(transcript, { seconds, container: 'mp4', ...options });
  const file = rig.fake.addFile('audio_message.mp4', 'audio/mp4', bytes);
  return { ...file, subtype: 'slack_audio', duration_ms: seconds * 1000 };
}

const asrRequests = () => rig.sim.chatRequests().filter((b) => b.model === 'qwen3-asr-flash');
const userTurns = async (key: string) =>
  (await rig.app.service.history.load(key)).filter((t) => t.role === 'user').map((t) => t.text);

describe('an audio clip', () => {
  test('in a DM is transcribed and answered, the transcript quoted first and stored as the question', async () => {
    rig.sim.script({ text: 'Tomorrow will be sunny.' });
    const before = asrRequests().length;
    await rig.deliver(rig.say({ channel: DM, text: '', files: [clip('What is the weather tomorrow?', 4)] }));
    const shown = rig.fake.channel(DM).filter((m) => m.bot);
    expect(shown.map((m) => m.text)).toEqual([
      '> 🎤 What is the weather tomorrow?\n\nTomorrow will be sunny.',
    ]);
    const asr = asrRequests().slice(before);
    expect(asr).toHaveLength(1);
    expect(JSON.stringify(asr[0]?.messages)).toContain('data:audio/mp4;base64,');
    const prompt = rig.sim.chatRequests().at(-1);
    expect(prompt?.model).not.toBe('qwen3-asr-flash');
    expect(String(prompt?.messages.at(-1)?.content)).toBe('What is the weather tomorrow?');
    expect(await userTurns(`slack:${rig.fake.team.id}:${DM}`)).toEqual(['What is the weather tomorrow?']);
  });

  test('with a mention in a channel is answered in its thread, typed text and transcript together', async () => {
    const said = rig.say({
      channel: CHANNEL,
      text: `${bot()} listen:`,
      files: [clip('Book a room for Friday.', 2)],
    });
    await rig.deliver(said);
    const replies = rig.fake
      .thread(CHANNEL, said.ts)
      .filter((m) => m.bot)
      .map((m) => m.text);
    expect(replies).toEqual([
      '> 🎤 Book a room for Friday.\n\nEcho: Alice: listen:\n\nBook a room for Friday.',
    ]);
    // A thread answer streams natively: the heading rode on the stream's first append.
    expect(rig.fake.count('chat.startStream')).toBeGreaterThan(0);
    expect(await userTurns(`slack:${rig.fake.team.id}:${CHANNEL}:${said.ts}`)).toEqual([
      'listen:\n\nBook a room for Friday.',
    ]);
  });

  test('over voice.maxSeconds gets the line; a failed transcription of a clip with text still answers the text', async () => {
    await rig.deliver(rig.say({ channel: DM, text: '', files: [clip('a very long story', 301)] }));
    expect(rig.fake.channel(DM).at(-1)?.text).toBe(
      '🎤 That voice message is 5:01 long; I can listen to at most 5:00. Please send a shorter one or type your question.',
    );

    const fault = { status: 400, code: 'invalid_parameter_error', message: 'The audio file is corrupted.' };
    await rig.deliver(
      rig.say({ channel: DM, text: 'and also hi', files: [clip('lost words', 2, { fault })] }),
    );
    expect(rig.fake.channel(DM).at(-1)?.text).toBe(
      'Echo: and also hi\n\n⚠️ I could not transcribe that voice message: The model refused the request as invalid.',
    );
    expect(rig.logs.text).toContain('voice message could not be transcribed');
  });
});

describe('with voice.enabled false', () => {
  test('a clip gets the "not listened to" line and nothing goes to a model', async () => {
    const off = await startRig({ config: { voice: { enabled: false } } });
    try {
      const bytes = simVoiceClip('hello', { container: 'mp4' });
      const file = { ...off.fake.addFile('audio_message.mp4', 'audio/mp4', bytes), subtype: 'slack_audio' };
      await off.deliver(off.say({ channel: DM, text: '', files: [file] }));
      expect(
        off.fake
          .channel(DM)
          .filter((m) => m.bot)
          .map((m) => m.text),
      ).toEqual(['🎤 Voice messages are not listened to here; please type your question.']);
      expect(off.sim.chatRequests()).toEqual([]);
    } finally {
      await off.close();
    }
  });
});
