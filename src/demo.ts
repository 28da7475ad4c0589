import { startDashScopeSim } from '../test/support/dashscope-sim.ts';
import { main } from './main.ts';

// The demo runs the real bot (terminal adapter, SQLite store, openai SDK) against the built-in
// DashScope simulator: no key, no network. Answers are the simulator's, not a real model's.
const sim = await startDashScopeSim({
  responder: (body) => {
    const last = [...body.messages].reverse().find((m) => m.role === 'user');
    const text = typeof last?.content === 'string' ? last.content : '';
    const turns = body.messages.filter((m) => m.role === 'user').length;
    return `(simulated Qwen, ${body.model}) You said: "${text}". This conversation has ${turns} message(s) from you so far.\n\nTry **/model qwen-max**, **/help** or **/reset**.`;
  },
});
process.env.DASHSCOPE_BASE_URL = sim.baseUrl;
process.env.DASHSCOPE_API_KEY = 'sk-demo-not-a-real-key';
// Its own file, so demo conversations never mix with real ones; it remembers between runs.
process.env.QWENBOT_STORE ??= 'sqlite://data/demo.sqlite';
process.stdout.write(
  'qwenbot demo: chatting with the built-in DashScope simulator. Type a message, /help, or /exit.\n',
);
const code = await main(['chat', ...process.argv.slice(2)]);
await sim.close();
process.exit(code);
