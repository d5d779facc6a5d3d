import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

/** Argo's Secret and data key for the cookie encryption key (`server/auth/sso/sso.go`). */
export const SSO_SECRET_NAME = 'sso';
export const SSO_SECRET_KEY = 'cookieEncryptionPrivateKey';

/** Where the key lives outside Kubernetes. */
export function ssoKeyPath(home: string): string {
  return join(home, 'sso.key');
}

function newPkcs1Der(): Buffer {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return privateKey.export({ type: 'pkcs1', format: 'der' });
}

/** Refuses anything that is not an RSA private key in PKCS#1 DER, so a wrong file or Secret is named at start. */
function checkedPkcs1Der(der: Buffer, where: string): Buffer {
  try {
    const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs1' });
    if (key.asymmetricKeyType === 'rsa') return der;
  } catch {
    // reported below
  }
  throw new Error(`failed to parse private key in ${where}: it must hold an RSA private key in PKCS#1 DER; delete it and restart to create a new one`);
}

/** The key in `<home>/sso.key` (binary PKCS#1 DER, 0600), created on first use. */
export async function loadOrCreateFileKey(home: string): Promise<Buffer> {
  const path = ssoKeyPath(home);
  try {
    return checkedPkcs1Der(await readFile(path), path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const der = newPkcs1Der();
  // `wx`: when two processes share the home, the first one's key wins and both read it back.
  await writeFile(path, der, { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  await chmod(path, 0o600);
  return checkedPkcs1Der(await readFile(path), path);
}

/**
 * The key in Secret `sso` of `namespace`, as Argo keeps it: every replica offers a new key and the first
 * Secret created wins (a 409 is expected), then all read it back.
 */
export async function loadOrCreateSecretKey(kubeConfig: KubeConfig, namespace: string): Promise<Buffer> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  try {
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: SSO_SECRET_NAME }, type: 'Opaque', data: { [SSO_SECRET_KEY]: newPkcs1Der().toString('base64') } },
    });
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw new Error(`failed to create secret ${namespace}/${SSO_SECRET_NAME}: ${(error as Error).message}`);
  }
  const secret = await core.readNamespacedSecret({ name: SSO_SECRET_NAME, namespace });
  const data = secret.data?.[SSO_SECRET_KEY];
  const where = `Secret ${namespace}/${SSO_SECRET_NAME} key ${SSO_SECRET_KEY}`;
  if (data === undefined) throw new Error(`failed to parse private key in ${where}: the key is missing; delete the Secret and restart`);
  return checkedPkcs1Der(Buffer.from(data, 'base64'), where);
}
