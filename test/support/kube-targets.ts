import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { describe, inject } from 'vitest';
import { kubeConfigFor, RESOURCES, startKubeApiServer, type KubeApiServer, type KubeObject, type ResourceName } from './kube-api-server.js';

/**
 * The Kubernetes API servers the Kubernetes suites run against (SPEC §10): the in-process one always, and k3s
 * when the global set-up could start it (a Docker engine is reachable).
 */
export type KubeTarget = 'in-process' | 'k3s';

const K3S = inject('k3s');

/** `describe`, skipped when the run has no k3s: for what only a real cluster can check. */
export const describeOnK3s = describe.skipIf('missing' in K3S);

/** `describe` once per target (`%s` in the title is the target), the k3s one skipped when the run has no k3s. */
export function describeEachKubeTarget(title: string, body: (target: KubeTarget) => void): void {
  for (const target of ['in-process', 'k3s'] as const) {
    (target === 'k3s' ? describeOnK3s : describe)(title.replace('%s', target), () => body(target));
  }
}

/** One suite's view of a target: clients for the code under test, and kubectl's access for the test itself. */
export interface Cluster {
  readonly target: KubeTarget;
  /** The in-process server, for what only it can do (cut watches, compact, decide reviews); undefined on k3s. */
  readonly inProcess: KubeApiServer | undefined;
  /** A client configuration with the cluster's admin credentials, or with `token` instead. */
  kubeConfig(token?: string): KubeConfig;
  /**
   * A namespace of the test's own, so suites can share a cluster: a unique name, created on k3s (where a
   * namespace must exist and already holds `kube-root-ca.crt` and the `default` ServiceAccount).
   */
  namespace(prefix?: string): Promise<string>;
  get(resource: ResourceName, namespace: string, name: string): Promise<KubeObject | undefined>;
  list(resource: ResourceName, namespace: string): Promise<KubeObject[]>;
  /** Creates or replaces an object as given, without version checks, as `kubectl apply` would; its `status` as the kubelet writes it. */
  seed(resource: ResourceName, object: KubeObject): Promise<KubeObject>;
  remove(resource: ResourceName, namespace: string, name: string): Promise<void>;
  /**
   * Sends any object as `kubectl apply --dry-run=server` does (dryRun=All, strict field validation) and returns the
   * server's answer. It finds the resource by discovery, which only a real cluster serves.
   */
  dryRun(manifest: KubeObject): Promise<KubeObject>;
  /** Deletes the namespaces it created; stops the in-process server. */
  close(): Promise<void>;
}

const IN_PROCESS_ADMIN_TOKEN = 'cluster-admin';

export async function openCluster(target: KubeTarget): Promise<Cluster> {
  if (target === 'in-process') {
    const server = await startKubeApiServer({ token: IN_PROCESS_ADMIN_TOKEN });
    return clusterThrough(target, server, (token) => kubeConfigFor(server, token), () => server.close());
  }
  if ('missing' in K3S) throw new Error(`no k3s for this test: ${K3S.missing}`);
  const admin = new KubeConfig();
  admin.loadFromString(K3S.kubeconfig);
  return clusterThrough(target, undefined, (token) => (token === undefined ? admin : withToken(admin, token)), async () => undefined);
}

function withToken(admin: KubeConfig, token: string): KubeConfig {
  const cluster = admin.getCurrentCluster()!;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'token', token }],
    contexts: [{ name: 'token', cluster: cluster.name, user: 'token' }],
    currentContext: 'token',
  });
  return kubeConfig;
}

/** Everything through the REST API, as on a real cluster, so the k3s path runs here against the in-process server too. */
function clusterThrough(target: KubeTarget, inProcess: KubeApiServer | undefined, kubeConfig: (token?: string) => KubeConfig, stop: () => Promise<void>): Cluster {
  const admin = kubeConfig();
  const created: string[] = [];
  const read = async (resource: ResourceName, namespace: string, name: string) => {
    const response = await request(admin, 'GET', pathOf(resource, namespace, name));
    return response.status === 404 ? undefined : (expectOk(response) as KubeObject);
  };
  const write = async (resource: ResourceName, object: KubeObject): Promise<KubeObject> => {
    const { status, ...body } = object;
    const namespace = body.metadata?.namespace || 'default';
    const name = body.metadata?.name ?? '';
    const current = await read(resource, namespace, name);
    const metadata = { ...body.metadata, namespace, ...(current && { resourceVersion: current.metadata?.resourceVersion }) };
    const sent = { ...body, ...typeOf(resource), metadata };
    let written = expectOk(await request(admin, current ? 'PUT' : 'POST', current ? pathOf(resource, namespace, name) : pathOf(resource, namespace), sent)) as KubeObject;
    // Only Pods here have a status subresource; the kubelet writes it there.
    if (resource === 'pods' && status !== undefined) {
      written = expectOk(await request(admin, 'PUT', `${pathOf(resource, namespace, name)}/status`, { ...written, status })) as KubeObject;
    }
    return written;
  };
  return {
    target,
    inProcess,
    kubeConfig,
    async namespace(prefix = 'test') {
      const name = `${prefix}-${randomBytes(4).toString('hex')}`;
      if (target === 'k3s') {
        expectOk(await request(admin, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
        created.push(name);
      }
      return name;
    },
    get: read,
    async list(resource, namespace) {
      return (expectOk(await request(admin, 'GET', pathOf(resource, namespace))) as { items: KubeObject[] }).items;
    },
    async seed(resource, object) {
      // Controllers of a real cluster (the scheduler, on Pods) may write in between: retry from a fresh read.
      for (let attempt = 1; ; attempt++) {
        try {
          return await write(resource, object);
        } catch (error) {
          if (!(error instanceof StatusFailure && error.code === 409) || attempt === 5) throw error;
        }
      }
    },
    async remove(resource, namespace, name) {
      expectOk(await request(admin, 'DELETE', pathOf(resource, namespace, name)));
    },
    async dryRun(manifest) {
      const { apiVersion = '', kind } = manifest;
      const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      const { resources } = expectOk(await request(admin, 'GET', root)) as { resources: { name: string; kind: string; namespaced: boolean }[] };
      const resource = resources.find((candidate) => candidate.kind === kind && !candidate.name.includes('/'));
      if (!resource) throw new Error(`the cluster serves no ${kind} in ${apiVersion}`);
      const scope = resource.namespaced ? `/namespaces/${encodeURIComponent(manifest.metadata?.namespace ?? 'default')}` : '';
      return expectOk(await request(admin, 'POST', `${root}${scope}/${resource.name}?dryRun=All&fieldValidation=Strict`, manifest)) as KubeObject;
    },
    async close() {
      const namespaces = created.splice(0);
      await Promise.all(namespaces.map(async (name) => expectOk(await request(admin, 'DELETE', `/api/v1/namespaces/${name}`))));
      await stop();
    },
  };
}

function typeOf(resource: ResourceName): { apiVersion: string; kind: string } {
  const { apiVersion, kind } = RESOURCES[resource];
  return { apiVersion, kind };
}

function pathOf(resource: ResourceName, namespace: string, name?: string): string {
  const { apiVersion } = RESOURCES[resource];
  const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return `${root}/namespaces/${encodeURIComponent(namespace)}/${resource}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

/** A Kubernetes `Status` failure: the code and the server's message. */
class StatusFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface Response {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly body: unknown;
}

function expectOk(response: Response): unknown {
  if (response.status >= 200 && response.status < 300) return response.body;
  const message = (response.body as { message?: string } | undefined)?.message ?? '';
  throw new StatusFailure(response.status, `${response.method} ${response.path}: ${response.status} ${message}`);
}

/** One JSON request with the credentials of `kubeConfig` (raw JSON both ways, unlike the typed clients, which turn times into Dates). */
async function request(kubeConfig: KubeConfig, method: string, path: string, body?: unknown): Promise<Response> {
  const url = new URL(path, kubeConfig.getCurrentCluster()!.server);
  const options: https.RequestOptions = { method, headers: { accept: 'application/json', ...(body !== undefined && { 'content-type': 'application/json' }) } };
  await kubeConfig.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const sent = (url.protocol === 'https:' ? https : http).request(url, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ method, path, status: response.statusCode ?? 0, body: text === '' ? undefined : (JSON.parse(text) as unknown) });
      });
    });
    sent.on('error', reject);
    sent.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
