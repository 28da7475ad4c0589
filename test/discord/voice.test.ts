/**
 * Voice messages on Discord, end to end: fake Discord (voice-message flag, one .ogg attachment with its
 * duration) ⇄ real discord.js ⇄ adapter ⇄ ConversationService ⇄ openai SDK ⇄ DashScope simulator
 * (qwen3-asr-flash through chat completions with an input_audio part). Assertions are about what the
 * channel shows, what the chat model read and what history kept.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { simVoiceClip } from '../../src/sim/sim-asr.ts';
import type { FakeUser } from '../support/fake-discord/index.ts';
import { sayVoice, type VoiceMessageOptions } from '../support/fake-discord/voice.ts';
import { type DiscordHarness, startDiscordHarness } from './harness.ts';

let h: DiscordHarness;
beforeAll(async () => {
  h = await startDiscordHarness({ config: { discord: { messageContentIntent: true } } });
});
afterAll(async () => {
  await h?.close();
});

const asrRequests = () => h.sim.chatRequests().filter((b) => b.model === 'qwen3-asr-flash');
const chatRequests = () => h.sim.chatRequests().filter((b) => b.model !== 'qwen3-asr-flash');

function dmKey(channelId: string): string {
  return `discord:dm:${channelId}`;
}

/** `author` sends a voice message in their DM with the bot: the turn's outcome and the bot's last line there. */
async function voiceInDm(author: FakeUser, clip: Omit<VoiceMessageOptions, 'author' | 'channelId'>) {
  const dm = h.fake.dmChannel(author);
  const turn = h.expectTurns(1);
  sayVoice(h.fake, { author, channelId: dm.id, ...clip });
  const [outcome] = await turn;
  return { dm, outcome, shown: h.fake.botMessages(dm.id).at(-1)?.content };
}

describe('a voice message in a DM', () => {
  test('is transcribed, quoted above the answer, answered like typed text, and stored as its transcript', async () => {
    const spoken = 'What is the capital of France?';
    const clip = simVoiceClip(spoken, { seconds: 3 });
    const asrBefore = asrRequests().length;
    h.sim.script({ text: 'Paris is the capital of France.' });
    const turn = h.expectTurns(1);
    const sent = sayVoice(h.fake, {
      author: h.alice,
      channelId: h.fake.dmChannel(h.alice).id,
      bytes: clip,
      seconds: 3,
    });
    const [outcome] = await turn;
    expect(outcome?.status).toBe('answered');

    // The speech model got the recording as a data: URI in an input_audio part.
    const asr = asrRequests().slice(asrBefore);
    expect(asr).toHaveLength(1);
    const content = asr[0]?.messages[0]?.content as Array<{ type: string; input_audio: { data: string } }>;
    const part = content[0];
    expect(part?.type).toBe('input_audio');
    expect(part?.input_audio.data).toBe(`data:audio/ogg;base64,${Buffer.from(clip).toString('base64')}`);

    // The chat model read the transcript as the user's message, and no audio.
    const prompt = chatRequests().at(-1);
    const user = prompt?.messages.filter((m) => m.role === 'user').at(-1);
    expect(JSON.stringify(user?.content)).toContain(spoken);
    expect(JSON.stringify(prompt?.messages)).not.toContain('input_audio');

    // One reply: the transcript quoted first, then the answer.
    const replies = h.fake.botMessages(sent.channel_id);
    expect(replies.at(-1)?.content).toBe(`> 🎤 ${spoken}\n\nParis is the capital of France.`);
    expect(replies.at(-1)?.message_reference?.message_id).toBe(sent.id);

    // History holds the transcript as the user's turn, then the answer (never the transcript line).
    const turns = await h.app.service.history.load(dmKey(sent.channel_id));
    expect(turns.map((t) => [t.role, t.text])).toEqual([
      ['user', spoken],
      ['assistant', 'Paris is the capital of France.'],
    ]);
    expect(h.logs.text).toContain('voice message transcribed');
  });

  test('a long transcript is quoted short, while the model reads all of it', async () => {
    const spoken = `${'Please summarise the following plan for me. '.repeat(20)}The end.`;
    const turn = h.expectTurns(1);
    const sent = sayVoice(h.fake, {
      author: h.bob,
      channelId: h.fake.dmChannel(h.bob).id,
      bytes: simVoiceClip(spoken, { seconds: 40 }),
      seconds: 40,
    });
    await turn;
    const reply = h.fake.botMessages(sent.channel_id).at(-1)?.content ?? '';
    const [quote, answer] = reply.split('\n\n');
    expect(quote?.startsWith('> 🎤 Please summarise the following plan')).toBe(true);
    expect(quote?.endsWith('…')).toBe(true);
    expect(quote?.length).toBeLessThanOrEqual('> 🎤 '.length + h.config.voice.quoteChars);
    // The simulator echoes what the model read: the whole transcript.
    expect(answer).toBe(`Echo: ${spoken}`);
  });
});

describe('a long answer to a voice message', () => {
  test('overflows into a follow-up message; only the first carries the quote, and each fits 2,000 characters', async () => {
    const answer = Array.from({ length: 450 }, (_, i) => `word${i}`).join(' ');
    h.sim.script({ text: answer, chunkChars: 200 });
    const dm = h.fake.dmChannel(h.bob);
    const before = h.fake.botMessages(dm.id).length;
    const turn = h.expectTurns(1);
    sayVoice(h.fake, {
      author: h.bob,
      channelId: dm.id,
      bytes: simVoiceClip('Tell me many words.'),
      seconds: 2,
    });
    expect((await turn)[0]?.status).toBe('answered');
    const shown = h.fake
      .botMessages(dm.id)
      .slice(before)
      .map((m) => m.content);
    expect(shown).toHaveLength(2);
    for (const text of shown) expect(text.length).toBeLessThanOrEqual(2000);
    const heading = '> 🎤 Tell me many words.\n\n';
    expect(shown[0]?.startsWith(heading)).toBe(true);
    expect(shown[1]).not.toContain('🎤');
    const bodies = [shown[0]?.slice(heading.length), shown[1]].join(' ');
    expect(bodies.split(/\s+/).join(' ')).toBe(answer);
  });
});

describe('limits and failures each leave one clear line', () => {
  test('a recording over voice.maxSeconds is refused before anything is downloaded or sent to a model', async () => {
    const before = h.sim.chatRequests().length;
    const { outcome, shown } = await voiceInDm(h.alice, {
      bytes: simVoiceClip('long talk', { seconds: 400 }),
      seconds: 400,
    });
    expect(outcome?.status).toBe('refused');
    expect(shown).toBe(
      '🎤 That voice message is 6:40 long; I can listen to at most 5:00. Please send a shorter one or type your question.',
    );
    expect(h.sim.chatRequests().length).toBe(before);
  });

  test('a recording over voice.maxBytes is refused with its size', async () => {
    const before = h.sim.chatRequests().length;
    const { outcome, shown } = await voiceInDm(h.bob, {
      bytes: simVoiceClip('big'),
      seconds: 20,
      reportedSize: 8 * 1024 * 1024,
    });
    expect(outcome?.status).toBe('refused');
    expect(shown).toBe(
      '🎤 That voice message is too large (8.0 MB; at most 7.0 MB). Please send a shorter one or type your question.',
    );
    expect(h.sim.chatRequests().length).toBe(before);
  });

  test('audio the speech model rejects gets the failure line and a log; nothing is stored', async () => {
    // Not audio at all: DashScope answers 400 for an unsupported format.
    const { dm, outcome, shown } = await voiceInDm(h.mod, {
      bytes: new TextEncoder().encode('not audio'),
      seconds: 2,
    });
    expect(outcome?.status).toBe('error');
    expect(shown).toBe(
      '⚠️ I could not transcribe that voice message: The model refused the request as invalid.',
    );
    expect(h.logs.text).toContain('voice message could not be transcribed');
    expect(await h.app.service.history.load(dmKey(dm.id))).toEqual([]);
  });

  test('a server fault is retried, then shown as the failure line', async () => {
    const asrBefore = asrRequests().length;
    const fault = { status: 500, code: 'internal_error', message: 'An internal error has occured.' };
    const { outcome, shown } = await voiceInDm(h.alice, {
      bytes: simVoiceClip('hello', { fault }),
      seconds: 2,
    });
    expect(outcome).toMatchObject({ status: 'error', errorCode: 'voice_server' });
    expect(shown).toBe(
      '⚠️ I could not transcribe that voice message: The model service had a problem. Please try again.',
    );
    // The first try and qwen.retries more.
    expect(asrRequests().length - asrBefore).toBe(1 + h.config.qwen.retries);
  });
});

describe('a voice message in a server channel', () => {
  test('is not answered unless the channel is in mode all (a voice message cannot mention the bot)', async () => {
    const channel = h.fake.addChannel(h.guild, 'voice-chat');
    const before = h.sim.chatRequests().length;
    const asrBefore = asrRequests().length;
    sayVoice(h.fake, {
      author: h.alice,
      channelId: channel.id,
      bytes: simVoiceClip('anyone there?'),
      seconds: 2,
    });
    // An addressed message after it proves the voice message was seen and passed over.
    const turn = h.expectTurns(1);
    h.fake.say({ author: h.alice, channelId: channel.id, content: h.mention('ping') });
    await turn;
    expect(asrRequests().length).toBe(asrBefore);
    expect(h.sim.chatRequests().length).toBe(before + 1);
    expect(h.fake.botMessages(channel.id).map((m) => m.content)).toEqual(['Echo: Alice: ping']);

    // A voice reply to the bot's message addresses it (the reply pings the bot).
    const botReply = h.fake.botMessages(channel.id).at(-1);
    const replied = h.expectTurns(1);
    sayVoice(h.fake, {
      author: h.alice,
      channelId: channel.id,
      bytes: simVoiceClip('And pong?'),
      seconds: 1,
      replyTo: botReply?.id ?? '',
    });
    expect((await replied)[0]?.status).toBe('answered');
    expect(h.fake.botMessages(channel.id).at(-1)?.content).toBe('> 🎤 And pong?\n\nEcho: Alice: And pong?');

    const mode = h.expectTurns(1);
    h.fake.say({ author: h.mod, channelId: channel.id, content: h.mention('/channel mode all') });
    expect((await mode)[0]?.status).toBe('command');
    const answered = h.expectTurns(1);
    sayVoice(h.fake, {
      author: h.bob,
      channelId: channel.id,
      bytes: simVoiceClip('What time is it?'),
      seconds: 2,
    });
    const [outcome] = await answered;
    expect(outcome?.status).toBe('answered');
    const turns = await h.app.service.history.load(`discord:${h.guild.id}:${channel.id}`);
    expect(turns.filter((t) => t.role === 'user').map((t) => [t.author, t.text])).toEqual([
      ['Alice', 'ping'],
      ['Alice', 'And pong?'],
      ['Bobby', 'What time is it?'],
    ]);
    expect(h.fake.botMessages(channel.id).at(-1)?.content).toBe(
      '> 🎤 What time is it?\n\nEcho: Bobby: What time is it?',
    );
  });

  test('a mention replying to someone’s voice message gets that recording as their words', async () => {
    const channel = h.fake.addChannel(h.guild, 'standup');
    const bobs = sayVoice(h.fake, {
      author: h.bob,
      channelId: channel.id,
      bytes: simVoiceClip('Meet at noon.'),
      seconds: 1,
    });
    const turn = h.expectTurns(1);
    h.fake.say({
      author: h.alice,
      channelId: channel.id,
      content: h.mention('what time did he say?'),
      replyTo: bobs.id,
      pingReply: false,
    });
    expect((await turn)[0]?.status).toBe('answered');
    const question = 'Bobby said in a voice message:\n> Meet at noon.\n\nwhat time did he say?';
    const turns = await h.app.service.history.load(`discord:${h.guild.id}:${channel.id}`);
    expect(turns.filter((t) => t.role === 'user').map((t) => t.text)).toEqual([question]);
    expect(h.fake.botMessages(channel.id).at(-1)?.content).toBe(
      `> 🎤 Bobby: Meet at noon.\n\nEcho: Alice: ${question}`,
    );
  });
});
