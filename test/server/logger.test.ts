import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, formatTextLine } from '../../runtime/server/logger.js';
import type { LoggerOptions } from '../../runtime/server/logger.js';

function capture(format: LoggerOptions['format'], level?: string): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ format, destination, ...(level ? { level } : {}) }), lines };
}

const secrets = {
  req: { headers: { authorization: 'Bearer s3cr3t-bearer', cookie: 'authorization=s3cr3t-cookie', 'set-cookie': 's3cr3t-set' } },
  password: 's3cr3t-password',
  connection: { spec: { password: 's3cr3t-nested', host: 'db' } },
  token: 's3cr3t-token',
};

describe('createLogger', () => {
  it.each(['json', 'text'] as const)('redacts authorization, cookies, passwords and tokens (%s)', (format) => {
    const { logger, lines } = capture(format);
    logger.info(secrets, 'connecting');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/s3cr3t/);
    expect(lines[0]).toContain('[REDACTED]');
    expect(lines[0]).toContain('db');
  });

  it('redacts secret keys in any letter case, deeper than three levels, in child bindings, and survives a cyclic object', () => {
    const { logger, lines } = capture('json');
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    logger.child({ Token: 's3cr3t-binding' }).info({ a: { b: { c: { d: { PASSWORD: 's3cr3t-deep', kept: 'visible' } } } }, cyclic: { name: 'outer' }, Authorization: 's3cr3t-upper' }, 'nested');
    logger.info({ loop: cyclic }, 'cyclic');
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).not.toMatch(/s3cr3t/);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ Token: '[REDACTED]', Authorization: '[REDACTED]', a: { b: { c: { d: { PASSWORD: '[REDACTED]', kept: 'visible' } } } } });
    expect(secrets.req.headers.authorization).toBe('Bearer s3cr3t-bearer');
  });

  it('redacts the secrets an error carries (a driver error with its connection config, an HTTP error with its request headers)', () => {
    const { logger, lines } = capture('json');
    const error = Object.assign(new Error('connect failed'), { config: { password: 's3cr3t-config' }, headers: { authorization: 'Bearer s3cr3t-header' } });
    logger.error({ err: error }, 'request failed');
    expect(lines[0]).not.toMatch(/s3cr3t/);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ err: { message: 'connect failed', config: { password: '[REDACTED]' }, headers: { authorization: '[REDACTED]' } } });
  });

  it('leaves the logged object itself untouched', () => {
    const { logger } = capture('json');
    logger.info(secrets, 'connecting');
    expect(secrets.connection.spec.password).toBe('s3cr3t-nested');
  });

  it('writes JSON lines with a level name and an ISO time', () => {
    const { logger, lines } = capture('json');
    logger.warn({ namespace: 'argo' }, 'limit lowered');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ level: 'warn', msg: 'limit lowered', namespace: 'argo', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  });

  it('writes nothing below its level (--loglevel)', () => {
    const { logger, lines } = capture('json', 'warn');
    logger.info({ url: '/api/v1/version' }, 'request completed');
    logger.error('database unreachable');
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['database unreachable']);
  });

  it('writes to stderr once per event-loop turn by default, and what is pending when the process exits', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const logger = createLogger({ format: 'json' });
      logger.info('first');
      logger.info('second');
      expect(write).not.toHaveBeenCalled();
      await new Promise((resolve) => setImmediate(resolve));
      expect(write).toHaveBeenCalledTimes(1);
      expect(String(write.mock.calls[0]?.[0]).match(/"msg":"(first|second)"/g)).toEqual(['"msg":"first"', '"msg":"second"']);
    } finally {
      write.mockRestore();
    }
    const logger = fileURLToPath(new URL('../../runtime/server/logger.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `const { createLogger } = await import(${JSON.stringify(logger)}); createLogger({ format: 'json' }).warn('last words'); process.exit(3);`]);
    expect(child.status).toBe(3);
    expect(child.stderr.toString()).toContain('"msg":"last words"');
  });

  it('writes logrus-like text lines', () => {
    expect(formatTextLine({ time: '2026-01-05T10:00:00.000Z', level: 'info', msg: 'request completed', res: { statusCode: 200 }, note: 'a b' })).toBe(
      'time=2026-01-05T10:00:00.000Z level=info msg="request completed" res.statusCode=200 note="a b"',
    );
  });
});
