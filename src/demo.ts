import { main } from './main.ts';
import { startDashScopeSim } from './sim/dashscope-sim.ts';
import { DEMO_PACE, demoAnswer } from './sim/demo-answers.ts';

// The demo runs the real bot (terminal adapter, SQLite store, openai SDK) against the built-in
// DashScope simulator: no key, no network. Answers are the simulator's, not a real model's; they stream
// at a real model's pace so what you see is what a real answer looks like.
const sim = await startDashScopeSim({ responder: demoAnswer, pace: DEMO_PACE });
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
