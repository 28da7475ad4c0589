/**
 * Slack as one of main's platforms: in `src/main.ts`,
 *
 *   if (config.slack.botToken) starters.push(startSlackAdapter);   // { platform: 'slack', start }
 *
 * HTTP mode mounts `/slack/events` on main's HTTP server (the same port as /healthz and /metrics);
 * Socket Mode needs no route. /readyz reports Slack as down (with the reason) until Socket Mode is
 * connected and while it is disconnected.
 */
import { createTitleWriter } from '../../src/core/thread-title.ts';
import type { AdapterStarter } from '../../src/platform.ts';
import { SLACK_EVENTS_PATH, startSlack } from './index.ts';

export const startSlackAdapter = {
  platform: 'slack',
  async start({ app, http, signal, report }) {
    if (!app.config.slack.botToken) return undefined;
    const { config, service, log, store, metrics } = app;
    const slack = await startSlack({
      config,
      service,
      log,
      store,
      metrics,
      actions: app.actions,
      signal,
      report,
      faqQuestions: () => app.faq.entries.map((entry) => entry.question),
      writeTitle: createTitleWriter(app.qwen, config.slack.assistant.titleModel),
    });
    const handle = slack.handleHttp;
    if (handle) {
      http.addRoute(SLACK_EVENTS_PATH, (req, res) => {
        if (!handle(req, res)) res.writeHead(404).end();
      });
    }
    return slack;
  },
} satisfies AdapterStarter;
