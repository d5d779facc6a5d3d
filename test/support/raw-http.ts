import { connect as connectTcp } from 'node:net';
import { connect as connectTls } from 'node:tls';

/** A response as it came off the wire; header names lower-cased, repeated headers kept in order. */
export interface RawResponse {
  readonly status: number;
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly body: string;
}

export interface RawRequest {
  readonly method: string;
  readonly path: string;
  /** Written as they are, in order: a name may repeat and a value may hold any byte (CR, LF, NUL, UTF-8). */
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: string;
}

const TIMEOUT_MS = 10_000;

/**
 * Sends one HTTP/1.1 request byte for byte (no client library would send a CR, a NUL or a second `Host`) and
 * reads its answer; an event stream is cut once its headers arrived. Resolves undefined when the server closes
 * the connection without answering.
 */
export async function rawRequest(url: string, request: RawRequest): Promise<RawResponse | undefined> {
  const target = new URL(url);
  const port = Number(target.port);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const socket = target.protocol === 'https:' ? connectTls({ host, port, rejectUnauthorized: false, servername: '' }) : connectTcp({ host, port });
  const lines = [`${request.method} ${request.path} HTTP/1.1`, ...request.headers.map(([name, value]) => `${name}: ${value}`), 'connection: close'];
  if (request.body !== undefined) lines.push(`content-length: ${Buffer.byteLength(request.body)}`);
  // Not `end()`: a half-closed connection makes Node abort the request it is still answering.
  socket.write(Buffer.from(`${lines.join('\r\n')}\r\n\r\n${request.body ?? ''}`, 'utf8'));
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error(`no complete answer to ${request.method} ${request.path} within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(parse(received));
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const parsed = parse(received);
      if (parsed && (parsed.headers.get('content-type')?.[0]?.startsWith('text/event-stream') || Buffer.byteLength(parsed.body) >= Number(parsed.headers.get('content-length')?.[0] ?? Infinity))) finish();
    });
    socket.on('end', () => finish());
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? finish() : finish(error)));
  });
}

function parse(bytes: Buffer): RawResponse | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...headerLines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const headers = new Map<string, string[]>();
  for (const line of headerLines) {
    const separator = line.indexOf(':');
    const name = line.slice(0, separator).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(separator + 1).trim()]);
  }
  const chunked = headers.get('transfer-encoding')?.[0] === 'chunked';
  const rest = bytes.subarray(end + 4);
  return { status: Number(statusLine.split(' ')[1]), headers, body: (chunked ? dechunk(rest) : rest).toString('utf8') };
}

/** The body of a chunked response, as far as it has arrived. */
function dechunk(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = parseInt(bytes.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
