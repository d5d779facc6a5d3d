import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../clock.js';

/** PEM material for `https.createServer`. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
}

/**
 * SPEC §7.6: TLS 1.3 first; TLS 1.2 (Argo's `TLS_MIN_VERSION` default) only with forward-secret AEAD suites,
 * so no CBC, SHA-1 or static-RSA key exchange is ever negotiated.
 */
export const TLS_SETTINGS = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  honorCipherOrder: true,
} as const;
export const HSTS_VALUE = 'max-age=31536000';

const VALIDITY_DAYS = 365;
const DAY_MS = 86_400_000;
/** A stored certificate this close to expiry is replaced at start rather than left to lapse mid-run. */
const RENEW_BEFORE_MS = 7 * DAY_MS;

export function tlsDirectory(home: string): string {
  return join(home, 'tls');
}

/**
 * One's own certificate and key when both paths are given, else the self-signed pair in
 * `$ARGOSYNC_HOME/tls/`, generated on first use and reused on restart until it nears expiry.
 */
export async function loadTlsMaterial(
  options: { readonly home: string; readonly tlsCert: string | undefined; readonly tlsKey: string | undefined },
  clock: Clock,
): Promise<TlsMaterial> {
  if (options.tlsCert !== undefined && options.tlsKey !== undefined) {
    const [cert, key] = await Promise.all([readPem(options.tlsCert, '--tls-cert'), readPem(options.tlsKey, '--tls-key')]);
    return { cert, key };
  }
  return ensureSelfSignedCertificate(options.home, clock);
}

/** Returns the stored self-signed pair, generating and storing a new one when it is missing or expiring. */
export async function ensureSelfSignedCertificate(home: string, clock: Clock): Promise<TlsMaterial> {
  const directory = tlsDirectory(home);
  const certPath = join(directory, 'tls.crt');
  const keyPath = join(directory, 'tls.key');
  const stored = await readStored(certPath, keyPath);
  if (stored && stored.expiresAt - clock.now() > RENEW_BEFORE_MS) return { cert: stored.cert, key: stored.key };

  const notBeforeDate = new Date(clock.now());
  // Loaded only when a certificate must be made: it costs a third of a second, and restarts reuse the stored pair.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'localhost' }, { name: 'organizationName', value: 'argosync' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + VALIDITY_DAYS * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await writeFile(keyPath, pems.private, { mode: 0o600 });
  await chmod(keyPath, 0o600); // writeFile's mode applies only when the file is created
  await writeFile(certPath, pems.cert, { mode: 0o600 });
  await chmod(certPath, 0o600);
  return { cert: pems.cert, key: pems.private };
}

/** The stored pair and its expiry; undefined when absent or unreadable (it is then replaced, not served). */
async function readStored(certPath: string, keyPath: string): Promise<(TlsMaterial & { expiresAt: number }) | undefined> {
  try {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return { cert, key, expiresAt: Date.parse(new X509Certificate(cert).validTo) };
  } catch {
    return undefined;
  }
}

async function readPem(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`${flag} ${path} cannot be read: ${(error as Error).message}`);
  }
}
