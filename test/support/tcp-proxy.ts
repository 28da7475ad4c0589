import { createConnection, createServer, type Socket } from 'node:net';

/** A TCP relay on 127.0.0.1 in front of a server (Redis), whose link a test can cut and restore. */
export interface TcpProxy {
  port: number;
  url: string;
  /** Drops every relayed connection and refuses new ones (each is reset at once) until restored. */
  cut(): void;
  /** Keeps every connection open but passes nothing back: a server that stopped answering (a host gone without a FIN). */
  silence(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const live = new Set<Socket>();
  let open = true;
  let silent = false;
  const server = createServer((client) => {
    if (!open) return client.resetAndDestroy();
    const upstream = createConnection({ host: targetHost, port: targetPort });
    live.add(client);
    live.add(upstream);
    const drop = () => {
      live.delete(client);
      live.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!silent) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const cut = () => {
    open = false;
    for (const socket of live) socket.resetAndDestroy();
    live.clear();
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    cut,
    silence() {
      silent = true;
    },
    restore() {
      open = true;
      silent = false;
    },
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
