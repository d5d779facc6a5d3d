import { X509Certificate } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import type { ConnectionOptions } from 'node:tls';
import { generate } from 'selfsigned';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSelfSignedCertificate, tlsDirectory } from '../../runtime/server/tls.js';
import { ManualClock } from '../support/manual-clock.js';
import { startTestServer, temporaryHome } from './server-harness.js';
import type { TestServer } from './server-harness.js';

/** Resolves with the negotiated protocol and the served certificate, or rejects with the handshake error. */
function handshake(port: number, options: ConnectionOptions): Promise<{ protocol: string | null; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => {
      const result = { protocol: socket.getProtocol(), fingerprint: socket.getPeerCertificate().fingerprint256 };
      socket.end();
      resolve(result);
    });
    socket.on('error', reject);
  });
}

/** A client able to speak TLS 1.1 at all (OpenSSL 3 refuses it at the default security level). */
const TLS11_CLIENT: ConnectionOptions = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' };

let home: string;
let server: TestServer;
let port: number;

beforeAll(async () => {
  home = await temporaryHome();
  server = await startTestServer({ home });
  port = Number(new URL(server.url).port);
});
afterAll(() => server.close());

describe('HTTPS by default', () => {
  it('generates a self-signed ECDSA P-256 certificate for localhost in $ARGOSYNC_HOME/tls', async () => {
    const directory = tlsDirectory(home);
    expect((await readdir(directory)).sort()).toEqual(['tls.crt', 'tls.key']);
    expect((await stat(join(directory, 'tls.key'))).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(await readFile(join(directory, 'tls.crt')));
    expect(cert.subject).toContain('CN=localhost');
    expect(cert.subject).toContain('O=argosync');
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(365);
    expect((await handshake(port, {})).fingerprint).toBe(cert.fingerprint256);
  });

  it('is trusted by a client that trusts the generated certificate, and sends HSTS', async () => {
    const ca = await readFile(join(tlsDirectory(home), 'tls.crt'), 'utf8');
    const verifying = new Agent({ connect: { ca } });
    try {
      const response = await request(`https://127.0.0.1:${port}/healthz`, { dispatcher: verifying });
      expect(response.statusCode).toBe(200);
      expect(response.headers['strict-transport-security']).toBe('max-age=31536000');
      await response.body.text();
    } finally {
      await verifying.close();
    }
  });

  it('refuses TLS 1.1 and accepts TLS 1.2', async () => {
    await expect(handshake(port, TLS11_CLIENT)).rejects.toThrow();
    expect((await handshake(port, { ...TLS11_CLIENT, maxVersion: 'TLSv1.2' })).protocol).toBe('TLSv1.2');
  });

  it('negotiates TLS 1.3 by default and, on TLS 1.2, only ECDHE with an AEAD cipher (SPEC §7.6)', async () => {
    expect((await handshake(port, {})).protocol).toBe('TLSv1.3');
    const tls12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;
    for (const weak of ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'AES128-GCM-SHA256']) {
      await expect(handshake(port, { ...tls12, ciphers: weak }), weak).rejects.toThrow();
    }
    const strong = await handshake(port, { ...tls12, ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    expect(strong.protocol).toBe('TLSv1.2');
  });

  it('the TLS 1.1 client used above does connect to a server that allows TLS 1.1 (control)', async () => {
    const tls = await ensureSelfSignedCertificate(home, new ManualClock(Date.now()));
    const permissive = createServer({ ...tls, minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }, (socket) => socket.end());
    await new Promise<void>((resolve) => permissive.listen(0, '127.0.0.1', resolve));
    try {
      const address = permissive.address() as { port: number };
      expect((await handshake(address.port, TLS11_CLIENT)).protocol).toBe('TLSv1.1');
    } finally {
      permissive.close();
    }
  });

  it('reuses the stored certificate on restart', async () => {
    const before = await readFile(join(tlsDirectory(home), 'tls.crt'), 'utf8');
    const restarted = await startTestServer({ home });
    try {
      const served = await handshake(Number(new URL(restarted.url).port), {});
      expect(served.fingerprint).toBe(new X509Certificate(before).fingerprint256);
      expect(await readFile(join(tlsDirectory(home), 'tls.crt'), 'utf8')).toBe(before);
    } finally {
      await restarted.close();
    }
  });

  it('replaces a stored certificate that is about to expire', async () => {
    const renewHome = await temporaryHome();
    const first = await ensureSelfSignedCertificate(renewHome, new ManualClock(Date.now()));
    expect((await ensureSelfSignedCertificate(renewHome, new ManualClock(Date.now() + 300 * 86_400_000))).cert).toBe(first.cert);
    const renewed = await ensureSelfSignedCertificate(renewHome, new ManualClock(Date.now() + 360 * 86_400_000));
    expect(renewed.cert).not.toBe(first.cert);
    expect(await readFile(join(tlsDirectory(renewHome), 'tls.crt'), 'utf8')).toBe(renewed.cert);
  });
});

describe('one’s own certificate', () => {
  it('serves the certificate given by --tls-cert/--tls-key and generates none', async () => {
    const ownHome = await temporaryHome();
    const pems = await generate([{ name: 'commonName', value: 'sync.example.test' }], { keyType: 'ec', algorithm: 'sha256' });
    await writeFile(join(ownHome, 'own.crt'), pems.cert);
    await writeFile(join(ownHome, 'own.key'), pems.private);
    const own = await startTestServer({ home: ownHome, tlsCert: join(ownHome, 'own.crt'), tlsKey: join(ownHome, 'own.key') });
    try {
      const served = await handshake(Number(new URL(own.url).port), {});
      expect(served.fingerprint).toBe(new X509Certificate(pems.cert).fingerprint256);
      expect(await readdir(ownHome)).not.toContain('tls');
    } finally {
      await own.close();
    }
  });

  it('names an unreadable certificate path', async () => {
    const missing = join(home, 'missing.crt');
    await expect(startTestServer({ home, tlsCert: missing, tlsKey: missing })).rejects.toThrow(`--tls-cert ${missing} cannot be read`);
  });
});

describe('server.hsts: false', () => {
  it('serves HTTPS without Strict-Transport-Security', async () => {
    const server = await startTestServer({ hsts: false });
    try {
      const response = await server.fetch('/healthz');
      expect([response.status, response.headers['strict-transport-security']]).toEqual([200, undefined]);
    } finally {
      await server.close();
    }
  });
});

describe('--secure=false', () => {
  it('serves plain HTTP without HSTS and logs the insecure-mode warning', async () => {
    const plain = await startTestServer({ secure: 'false' });
    try {
      expect(plain.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const response = await plain.fetch('/healthz');
      expect(response.status).toBe(200);
      expect(response.headers['strict-transport-security']).toBeUndefined();
      expect(plain.logs.some((line) => line.includes('"level":"warn"') && line.includes('You are running in insecure mode'))).toBe(true);
      expect(await readdir(plain.options.home)).not.toContain('tls');
    } finally {
      await plain.close();
    }
  });
});
