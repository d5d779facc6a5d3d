import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, ApiRequestError } from '../../runtime/client/api-client.js';

const UNAVAILABLE = JSON.stringify({ code: 14, message: 'sync database postgresql at db:5432 is unavailable: connection refused' });

describe('the API client during a database outage on the server', () => {
  let server: Server;
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** A server that answers 503 Unavailable `outageRequests` times, then 200. */
  async function serverRecoveringAfter(outageRequests: number): Promise<{ client: ApiClient; requests: () => number }> {
    let requests = 0;
    server = createServer((_request, response) => {
      requests += 1;
      if (requests <= outageRequests) response.writeHead(503, { 'content-type': 'application/json' }).end(UNAVAILABLE);
      else response.writeHead(200, { 'content-type': 'application/json' }).end('{"key":"gpu","limit":2}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new ApiClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, maxRetries: 3 });
    return { client, requests: () => requests };
  }

  it('retries 503 Unavailable with backoff until the database is back', async () => {
    const { client, requests } = await serverRecoveringAfter(2);
    expect(await client.send('GET', '/api/v1/sync/default/gpu')).toEqual({ key: 'gpu', limit: 2 });
    expect(requests()).toBe(3);
    await client.close();
  });

  it("gives up after its retries with the server's message", async () => {
    const { client, requests } = await serverRecoveringAfter(100);
    const error = await client.send('GET', '/api/v1/sync/default/gpu').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiRequestError);
    expect(error).toMatchObject({ status: 503, grpcCode: 14, message: 'sync database postgresql at db:5432 is unavailable: connection refused' });
    expect(requests()).toBe(4);
    await client.close();
  });
});
