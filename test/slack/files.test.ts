import { afterEach, describe, expect, it } from 'vitest';
import { type Rig, startRig } from './rig.ts';

let rig: Rig;
afterEach(async () => rig?.close());

/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

describe('files shared with a question', () => {
  it('downloads an image with the bot token and sends it to the vision model', async () => {
    rig = await startRig({ sim: { responder: () => 'A tiny image.' } });
    const file = rig.fake.addFile('pixel.png', 'image/png', PNG);
    await rig.deliver(rig.say({ channel: 'D0ALICE', text: 'what is this?', files: [file] }));
    const request = rig.sim.chatRequests()[0];
    expect(request?.model).toBe('qwen-vl-max');
    const content = JSON.stringify(request?.messages.at(-1)?.content);
    expect(content).toContain(`data:image/png;base64,${PNG.toString('base64')}`);
    expect(rig.fake.count('file.download')).toBe(1);
  });

  it('adds a small text file to the prompt', async () => {
    rig = await startRig({ sim: { responder: () => 'Looks fine.' } });
    const file = rig.fake.addFile('notes.txt', 'text/plain', Buffer.from('deploy on friday at 5pm'));
    const thread = rig.say({
      channel: 'C0GENERAL',
      text: `<@${rig.fake.bot.userId}> review this`,
      files: [file],
    });
    await rig.deliver(thread);
    const prompt = JSON.stringify(rig.sim.chatRequests()[0]?.messages);
    expect(prompt).toContain('deploy on friday at 5pm');
    expect(prompt).toContain('notes.txt');
  });

  it('a download that stalls is given up after attachments.downloadTimeoutMs, with a note, and the question is answered', async () => {
    rig = await startRig({ config: { attachments: { downloadTimeoutMs: 300 } } });
    const file = rig.fake.addFile('slow.txt', 'text/plain', Buffer.from('x'.repeat(10_000)));
    rig.fake.stallNextDownload();
    await rig.deliver(rig.say({ channel: 'D0ALICE', text: 'read this', files: [file] }));
    const shown = rig.fake.channel('D0ALICE').filter((m) => m.bot);
    expect(shown.map((m) => m.text)).toEqual([
      'Echo: read this\n\n(Skipped slow.txt: could not be read (download timed out after 0.3 s).)',
    ]);
    expect(JSON.stringify(rig.sim.chatRequests()[0]?.messages)).not.toContain('xxxx');
  });
});
