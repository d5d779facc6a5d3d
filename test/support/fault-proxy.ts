import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between the runtime and a real PostgreSQL or MariaDB that can stage an outage without touching
 * the shared server: `cut()` drops every connection and stops listening (new connections are refused, as by
 * a database that is down), `heal()` listens again on the same port.
 */
export interface FaultProxy {
  readonly host: string;
  readonly port: number;
  /** Connections currently relayed. */
  readonly connections: number;
  cut(): Promise<void>;
  heal(): Promise<void>;
  /** `cut()`, then `heal()` after `ms`. */
  outage(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultProxy(target: { readonly host?: string; readonly port?: number }): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  const relay = (client: Socket) => {
    const upstream = connect({ host: target.host ?? '127.0.0.1', port: target.port! });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        // Either side closing ends the pair, as a dead server would.
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  };
  let server: Server = createServer(relay);
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  const port = await listen(0);
  let listening = true;

  const cut = async () => {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  const heal = async () => {
    if (listening) return;
    server = createServer(relay);
    await listen(port);
    listening = true;
  };
  return {
    host: '127.0.0.1',
    port,
    get connections() {
      return sockets.size / 2;
    },
    cut,
    heal,
    async outage(ms) {
      await cut();
      await new Promise((resolve) => setTimeout(resolve, ms));
      await heal();
    },
    close: cut,
  };
}
