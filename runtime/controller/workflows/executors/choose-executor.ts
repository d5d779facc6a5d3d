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
    message:
      'no executor is enabled: run the controller with --executor local (it runs nodes as local processes; not chosen by itself when the server listens beyond loopback or with --auth-mode server) or on Kubernetes (--executor kubernetes)',
  }),
  cleanup: async () => undefined,
};

export interface ExecutorChoice {
  /** `--executor` or `executor.type`: what the operator asked for in so many words. */
  readonly requested: ExecutorName | undefined;
  readonly kubernetes: KubeConfig | undefined;
  /** The server listens on a loopback address only. */
  readonly loopback: boolean;
  /** `--auth-mode server` is on: a request without a token acts as the server. */
  readonly unauthenticatedCallers: boolean;
  readonly home: string;
  readonly say: (line: string) => void;
}

const UNAUTHENTICATED_LOCAL_WARNING =
  'WARNING: --auth-mode server with --executor local: anyone who can send a request to this server runs commands on this machine as this user, without a token';

/**
 * SPEC §6, §7.6: `--executor` or `executor.type` when given; otherwise `kubernetes` on a cluster, and `local`
 * only when the server listens on loopback and every request needs a token (nobody else can submit commands
 * to run on this machine). The local executor keeps its nodes' files under `<home>/executions`.
 */
export async function chooseExecutor(options: ExecutorChoice): Promise<Executor> {
  const localByDefault = options.loopback && !options.unauthenticatedCallers;
  const name = options.requested ?? (options.kubernetes ? 'kubernetes' : localByDefault ? 'local' : undefined);
  if (name === 'local') {
    if (options.unauthenticatedCallers) options.say(UNAUTHENTICATED_LOCAL_WARNING);
    return new LocalExecutor(join(options.home, 'executions'));
  }
  if (name === 'kubernetes') {
    if (!options.kubernetes) throw new Error('--executor kubernetes needs a cluster: run in a Pod or set KUBECONFIG');
    const { KubernetesExecutor } = await import('./kubernetes-executor.js');
    return new KubernetesExecutor(options.kubernetes);
  }
  return noExecutor;
}
