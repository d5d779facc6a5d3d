// Child of bench/api.ts: the baseline, a bare node:https server that answers every request with the same JSON,
// in a process of its own as the runtime is, with the runtime's TLS settings (versions, suites, their order).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TLS_SETTINGS } from '../../runtime/server/tls.js';

const [certFile, keyFile, body] = process.argv.slice(2) as [string, string, string];
const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile), ...TLS_SETTINGS }, (_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body);
});
server.listen(0, '127.0.0.1', () => console.log(`listening on https://127.0.0.1:${(server.address() as AddressInfo).port}/`));
