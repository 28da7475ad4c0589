/**
 * The adapter on its own, with a stub ChatService that misbehaves: the user still sees something and
 * Discord's deadlines are still met.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type DiscordHandle, startDiscord } from '../../adapters/discord/index.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { ChatService } from '../../src/core/service.ts';
import { type FakeDiscord, startFakeDiscord } from '../support/fake-discord/index.ts';
import { silentLogger } from '../support/harness.ts';

let fake: FakeDiscord;
let discord: DiscordHandle;
const service: ChatService = {
  handleMessage: async () => {
    throw new Error('the core blew up');
  },
  runCommand: async () => {
    throw new Error('the command blew up');
  },
  spellCommandsAs: () => undefined,
  answersEveryMessage: async () => false,
  commands: () => [
    {
      name: 'slow',
      description: 'Suggests slowly',
      access: 'everyone',
      ephemeral: true,
      options: [{ name: 'q', description: 'query', type: 'string', autocomplete: () => [] }],
      handler: async () => ({ text: '' }),
    },
  ],
  autocomplete: () => new Promise<string[]>(() => undefined),
  stop: () => false,
};

beforeAll(async () => {
  fake = await startFakeDiscord('stub.bot-token');
  fake.addGuild('Stub');
  const config = loadConfig({
    file: null,
    env: { DISCORD_TOKEN: fake.token, DISCORD_API_URL: fake.apiUrl, DASHSCOPE_API_KEY: 'sk-unused' },
  });
  discord = await startDiscord({ config, service, log: silentLogger() });
  await discord.whenReady;
});
afterAll(async () => {
  await discord?.stop();
  await fake?.close();
});

test('if the chat service throws, the user gets the internal-error line instead of silence', async () => {
  const guild = [...fake.state.guilds.values()][0];
  if (!guild) throw new Error('no guild');
  const channel = fake.addChannel(guild, 'broken');
  const user = fake.addUser('carol', 'Carol');
  fake.addMember(guild, user);
  const asked = fake.say({ author: user, channelId: channel.id, content: `<@${fake.bot.id}> hello` });
  const reply = await fake.waitFor(() => fake.botMessages(channel.id)[0], 5000, 'a reply');
  expect(reply.content).toBe('Something went wrong on the bot side. Please try again.');
  expect(reply.message_reference?.message_id).toBe(asked.id);
});

test('a failing slash command still gets an answer after its deferral', async () => {
  const guild = [...fake.state.guilds.values()][0];
  if (!guild) throw new Error('no guild');
  const user = fake.addUser('dave');
  const channel = fake.addChannel(guild, 'cmds');
  const it = fake.slash({ user, channelId: channel.id, name: 'slow', options: { q: 'x' } });
  await fake.waitFor(() => (fake.state.findMessage(it.originalId ?? '')?.edits ?? 0) > 0, 5000, 'the reply');
  expect(it.callbackType).toBe(5);
  expect(fake.state.findMessage(it.originalId ?? '')?.content).toBe(
    'Something went wrong on the bot side. Please try again.',
  );
});

test('slow autocomplete is answered with no choices before Discord’s 3-second deadline', async () => {
  const guild = [...fake.state.guilds.values()][0];
  if (!guild) throw new Error('no guild');
  const user = fake.addUser('erin');
  const channel = fake.addChannel(guild, 'auto');
  const it = fake.autocomplete({ user, channelId: channel.id, name: 'slow', option: 'q', value: 'abc' });
  await fake.waitFor(() => it.callbackType !== undefined, 4000, 'the autocomplete answer');
  expect(it.callbackType).toBe(8);
  expect(it.callbackData?.choices).toEqual([]);
  expect((it.callbackAt ?? Infinity) - it.createdAt).toBeLessThan(3000);
});
