import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ExecutorName } from '../../../config/runtime-config.js';
import type { Executor } from './executor.js';
import { LocalExecutor } from './local-executor.js';

/** Fails every leaf node with what to do, when no executor may run here. */
const noExecutor: Executor = {
  name: 'local',
  run: async () => ({
    phase: 'Error',
    message: 'no executor is enabled: run the controller with --executor local (it runs nodes as local processes) or on Kubernetes (--executor kubernetes)',
  }),
  cleanup: async () => undefined,
};

/**
 * SPEC §6: `--executor` or `executor.type` when given; otherwise `kubernetes` on a cluster, and `local` only
 * when the server listens on loopback (nobody else can submit commands to run on this machine). The local
 * executor keeps its nodes' files under `<home>/executions`.
 */
export async function chooseExecutor(options: { requested: ExecutorName | undefined; kubernetes: KubeConfig | undefined; loopback: boolean; home: string }): Promise<Executor> {
  const name = options.requested ?? (options.kubernetes ? 'kubernetes' : options.loopback ? 'local' : undefined);
  if (name === 'local') return new LocalExecutor(join(options.home, 'executions'));
  if (name === 'kubernetes') {
    if (!options.kubernetes) throw new Error('--executor kubernetes needs a cluster: run in a Pod or set KUBECONFIG');
    const { KubernetesExecutor } = await import('./kubernetes-executor.js');
    return new KubernetesExecutor(options.kubernetes);
  }
  return noExecutor;
}
