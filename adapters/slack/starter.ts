/**
 * Slack as one of main's platforms: in `src/main.ts`,
 *
 *   if (config.slack.botToken) starters.push(startSlackAdapter);   // { platform: 'slack', start }
 *
 * HTTP mode mounts `/slack/events` on main's HTTP server (the same port as /healthz and /metrics);
 * Socket Mode needs no route. /readyz reports Slack as down (with the reason) until Socket Mode is
 * connected and while it is disconnected.
 */
import type { AdapterStarter, PlatformAdapter } from '../../src/platform.ts';
import { SLACK_EVENTS_PATH, startSlack } from './index.ts';

export const startSlackAdapter: AdapterStarter = {
  platform: 'slack',
  async start({ app, http, signal, report }): Promise<PlatformAdapter | undefined> {
    if (!app.config.slack.botToken) return undefined;
    const slack = await startSlack({
      config: app.config,
      service: app.service,
      log: app.log,
      store: app.store,
      signal,
      report,
    });
    const handle = slack.handleHttp;
    if (handle) {
      http.addRoute(SLACK_EVENTS_PATH, (req, res) => {
        if (!handle(req, res)) res.writeHead(404).end();
      });
    }
    return {
      name: 'slack',
      isReady: () => slack.ready,
      problem: () => slack.problem,
      pause: () => void slack.pause(),
      stop: () => slack.stop(),
      editor: slack.editor,
    };
  },
};
