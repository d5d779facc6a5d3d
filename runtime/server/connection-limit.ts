import type { Server } from 'node:net';

/**
 * Caps open connections per client address (SPEC §7.6): one host cannot exhaust the server's sockets with
 * idle or trickling connections. A connection over the cap is closed at once, before TLS or HTTP.
 */
export function limitConnectionsPerAddress(server: Server, max: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const address = socket.remoteAddress ?? '';
    const count = (open.get(address) ?? 0) + 1;
    if (count > max) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
