import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { LogFormat } from './server-options.js';

export interface LoggerOptions {
  readonly format: LogFormat;
  readonly level?: string;
  /** Where lines go; stderr by default (see `stderrOncePerTurn`), so stdout carries only what commands print. */
  readonly destination?: Pick<NodeJS.WritableStream, 'write'>;
}

const SECRET_KEYS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'password', 'token', 'set-cookie']);
const CENSOR = '[REDACTED]';
/** Deeper objects are logged as they are; a bound on the walk, for cyclic objects. */
const MAX_DEPTH = 8;

/**
 * A copy of `fields` with the value of every secret key replaced, in plain objects up to MAX_DEPTH deep (a request's
 * headers sit at `req.headers.*`), so neither a bearer token nor a database password can reach a log line.
 * Only what changes is copied. pino's path redaction did the same with `*.`-first paths, which cost every log
 * call and every per-request child logger about 30 µs.
 */
export function redactSecrets<T extends Record<string, unknown>>(fields: T, depth = 0): T {
  if (depth >= MAX_DEPTH) return fields;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    const redacted = SECRET_KEYS.has(key.toLowerCase()) ? CENSOR : isPlainObject(value) ? redactSecrets(value, depth + 1) : value;
    if (redacted !== value) (copy ??= { ...fields })[key] = redacted;
  }
  return (copy ?? fields) as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** The process's pino logger: JSON lines (`--log-format json`) or logrus-like text, as Argo prints. */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? stderrOncePerTurn();
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      timestamp: isoTimeOncePerMs(),
      formatters: { level: (label) => ({ level: label }), log: (fields) => redactSecrets(fields) },
      // An error is no plain object, so the formatter leaves it whole; pino serializes it after the formatter ran.
      serializers: { err: (error: Error) => redactSecrets(pino.stdSerializers.err(error) as unknown as Record<string, unknown>) },
    },
    options.format === 'json' ? destination : textStream(destination),
  );
  // pino hands a child's bindings to no formatter; children inherit this `child` (and so redact theirs too).
  const pinoChild = logger.child;
  logger.child = function (this: Logger, bindings, childOptions) {
    return pinoChild.call(this, redactSecrets(bindings), childOptions);
  } as Logger['child'];
  return logger;
}

let stderrLines: { write(line: string): boolean } | undefined;

/**
 * stderr, written once per event-loop turn: the lines logged in one turn (a busy server's request lines) share
 * one system call instead of paying one each. Lines still pending when the process exits are written then.
 */
function stderrOncePerTurn(): { write(line: string): boolean } {
  if (stderrLines) return stderrLines;
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    process.stderr.write(text);
  };
  process.on('exit', flush);
  stderrLines = {
    write(line) {
      if (pending.push(line) === 1) setImmediate(flush);
      return true;
    },
  };
  return stderrLines;
}

/** pino's `isoTime`, formatting the date once per millisecond rather than once per line. */
function isoTimeOncePerMs(): () => string {
  let last = { ms: Number.NaN, text: '' };
  return () => {
    const ms = Date.now();
    if (ms !== last.ms) last = { ms, text: `,"time":"${new Date(ms).toISOString()}"` };
    return last.text;
  };
}

/** Re-renders pino's JSON lines as `time="…" level=info msg="…" key=value`. */
function textStream(destination: Pick<NodeJS.WritableStream, 'write'>): Writable {
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

