import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { LogFormat } from './server-options.js';

export interface LoggerOptions {
  readonly format: LogFormat;
  readonly level?: string;
  /** Where lines go; stderr by default, so stdout carries only what commands print. */
  readonly destination?: NodeJS.WritableStream;
}

const SECRET_KEYS = ['authorization', 'cookie', 'password', 'token', '"set-cookie"'];

/**
 * Secrets are removed wherever they appear up to three levels deep (a request's headers sit at
 * `req.headers.*`), so neither a bearer token nor a database password can reach a log line.
 */
export const REDACTED_PATHS: readonly string[] = SECRET_KEYS.flatMap((key) => {
  const segment = key.startsWith('"') ? `[${key}]` : `.${key}`;
  return [segment.replace(/^\./, ''), `*${segment}`, `*.*${segment}`, `*.*.*${segment}`];
});

/** The process's pino logger: JSON lines (`--log-format json`) or logrus-like text, as Argo prints. */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stderr;
  return pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACTED_PATHS], censor: '[REDACTED]' },
    },
    options.format === 'json' ? destination : textStream(destination),
  );
}

/** Re-renders pino's JSON lines as `time="…" level=info msg="…" key=value`. */
function textStream(destination: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const lines = chunk.toString('utf8').split('\n').filter((line) => line !== '');
      destination.write(lines.map((line) => `${formatTextLine(JSON.parse(line) as Record<string, unknown>)}\n`).join(''));
      done();
    },
  });
}

export function formatTextLine(entry: Record<string, unknown>): string {
  const { time, level, msg, ...fields } = entry;
  const head = [`time=${quote(String(time))}`, `level=${String(level)}`, `msg=${quote(String(msg ?? ''))}`];
  return [...head, ...flatten('', fields).map(([key, value]) => `${key}=${quote(value)}`)].join(' ');
}

function flatten(prefix: string, value: Record<string, unknown>): [string, string][] {
  return Object.entries(value).flatMap(([key, item]): [string, string][] => {
    const name = prefix + key;
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      return flatten(`${name}.`, item as Record<string, unknown>);
    }
    return [[name, typeof item === 'string' ? item : JSON.stringify(item)]];
  });
}

function quote(value: string): string {
  return /^[\w./:@+-]+$/.test(value) ? value : JSON.stringify(value);
}
