import { createCipheriv, createDecipheriv, createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { setCookie } from '../../../runtime/server/auth/cookies.js';
import { mintSession, readSession, sessionContentKey, type SessionClaims } from '../../../runtime/server/auth/sso/session-cookie.js';

const der = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'der' });
const key = sessionContentKey(der);
const NOW = Date.parse('2026-11-27T12:00:00Z');
const claims: SessionClaims = { iss: 'argo-server', sub: 'alice', exp: NOW / 1000 + 3600, groups: ['admins'], email: 'alice@example.com', name: 'Alice' };

/**
 * Argo v4.1.2 mints the cookie with go-jose: JSON claims, raw DEFLATE (`zip: DEF`), AES-256-GCM under the
 * SHA-256 of the PKCS#1 DER (`dir`), 96-bit IV, AAD = the ASCII of the encoded protected header, and the
 * protected header marshalled from a Go map (keys sorted). This is written from node:crypto directly,
 * independently of the module under test.
 */
function mintTheArgoWay(pkcs1Der: Buffer, payload: object): string {
  const cek = new Uint8Array(createHash('sha256').update(pkcs1Der).digest());
  const header = Buffer.from('{"alg":"dir","enc":"A256GCM","zip":"DEF"}').toString('base64url');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', cek, iv);
  cipher.setAAD(Buffer.from(header, 'ascii'));
  const ciphertext = Buffer.concat([cipher.update(deflateRawSync(Buffer.from(JSON.stringify(payload)))), cipher.final()]);
  return `Bearer v2:${header}..${iv.toString('base64url')}.${ciphertext.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
}

/** What Argo's `Authorize` does with a cookie: split the compact JWE, check the header, decrypt, inflate. */
function openTheArgoWay(pkcs1Der: Buffer, value: string): { header: unknown; claims: unknown } {
  const [header = '', encryptedKey, iv = '', ciphertext = '', tag = ''] = value.replace(/^Bearer v2:/, '').split('.');
  expect(encryptedKey).toBe('');
  const decipher = createDecipheriv('aes-256-gcm', new Uint8Array(createHash('sha256').update(pkcs1Der).digest()), Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(header, 'ascii'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  const plaintext = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
  return { header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')), claims: JSON.parse(inflateRawSync(plaintext).toString('utf8')) };
}

describe("the session cookie in Argo v4.1.2's Bearer v2 format", () => {
  it('reads a session minted the way Argo mints it, with the same key', async () => {
    expect(await readSession(key, mintTheArgoWay(der, claims), NOW)).toEqual(claims);
  });

  it('mints a session Argo reads: same protected header, empty key segment, deflated claims', async () => {
    const opened = openTheArgoWay(der, await mintSession(key, claims));
    expect(opened).toEqual({ header: { alg: 'dir', enc: 'A256GCM', zip: 'DEF' }, claims });
  });

  it('refuses tampered, foreign-key, wrong-issuer and expired sessions, with one minute of leeway on exp', async () => {
    const value = await mintSession(key, claims);
    const parts = value.split('.');
    parts[3] = `${parts[3]!.slice(0, -2)}${parts[3]!.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(await readSession(key, parts.join('.'), NOW)).toEqual({ refused: 'failed to decrypt token' });
    const otherKey = sessionContentKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'der' }));
    expect(await readSession(otherKey, value, NOW)).toEqual({ refused: 'failed to decrypt token' });
    expect(await readSession(key, mintTheArgoWay(der, { ...claims, iss: 'someone-else' }), NOW)).toEqual({ refused: 'failed to validate claims: invalid issuer claim (iss)' });
    const exp = claims.exp;
    expect(await readSession(key, value, (exp + 59) * 1000)).toEqual(claims);
    expect(await readSession(key, value, (exp + 61) * 1000)).toEqual({ refused: 'failed to validate claims: token is expired (exp)' });
    expect(await readSession(key, 'Bearer v2:not-a-jwe', NOW)).toEqual({ refused: 'failed to decrypt token' });
  });

  it('keeps a session with 60 groups under 4,096 bytes as a Set-Cookie header', async () => {
    const groups = Array.from({ length: 60 }, (_, i) => `engineering-platform-team-${String(i).padStart(2, '0')}`);
    const value = await mintSession(key, { ...claims, groups, preferred_username: 'alice.anderson', email: 'alice.anderson@example.com', name: 'Alice Anderson' });
    const header = setCookie('authorization', value, { path: '/argo/', expires: new Date(NOW), sameSite: 'Strict', secure: true, httpOnly: true });
    expect(header.length).toBeLessThan(4096);
    expect(((await readSession(key, value, NOW)) as SessionClaims).groups).toEqual(groups);
  });
});
