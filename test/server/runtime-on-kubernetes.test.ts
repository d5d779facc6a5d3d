import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntime, type RunningRuntime } from '../../runtime/runtime-process.js';
import { kubeConfigFor, startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.js';
import { runtimeApi } from '../support/runtime-api.js';

// In-process only: this checks how `argosync up` wires itself to a cluster; the ConfigMap store and auth suites
// check the cluster's side on k3s as well.
describe('argosync up pointed at a cluster with KUBECONFIG', () => {
  let kube: KubeApiServer;
  let home: string;
  let runtime: RunningRuntime;
  const printed: string[] = [];

  beforeAll(async () => {
    kube = await startKubeApiServer({ token: 'argosync-service-account' });
    kube.setTokenReview((token) => (token === 'alice-token' ? { username: 'alice', groups: [] } : undefined));
    kube.setAccessReview((spec) => ({ allowed: spec.user === 'alice' }));
    home = await mkdtemp(join(tmpdir(), 'argosync-kube-'));
    const kubeconfig = join(home, 'kubeconfig');
    await writeFile(kubeconfig, kubeConfigFor(kube).exportConfig());
    process.env.KUBECONFIG = kubeconfig;
    process.env.ARGOSYNC_NAMESPACE = 'argo';
    runtime = await startRuntime({ home }, { port: 0, logFormat: 'json' }, (line) => printed.push(line));
  });
  afterAll(async () => {
    await runtime?.stop();
    await kube?.close();
    delete process.env.KUBECONFIG;
    delete process.env.ARGOSYNC_NAMESPACE;
    await rm(home, { recursive: true, force: true });
  });

  const api = runtimeApi(() => runtime, 'alice-token');

  it('uses the cluster for tokens, ConfigMap limits and its own configuration', async () => {
    expect(runtime.token).toBeUndefined();
    expect(printed).toContain('configuration: configmap argo/argosync-config key config');
    expect((await api('GET', '/sync/team-a', undefined, 'unknown-token')).status).toBe(401);

    expect((await api('POST', '/sync/team-a', { cmName: 'limits', key: 'gpu', limit: 3 })).status).toBe(200);
    expect(kube.get('configmaps', 'team-a', 'limits')?.data).toEqual({ gpu: '3' });

    expect((await api('PUT', '/config/persistence', { nodeStatusOffLoad: true })).status).toBe(200);
    expect((kube.get('configmaps', 'argo', 'argosync-config')?.data as Record<string, string>).config).toBe('persistence:\n  nodeStatusOffLoad: true\n');
  });
});
