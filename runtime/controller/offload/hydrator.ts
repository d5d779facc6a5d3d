import type { CompressionAlgorithm } from '../../config/environment-knobs.js';
import { InvalidArgumentError } from '../../errors.js';
import type { NodeStatusCodec } from '../workflows/workflow-controller.js';
import type { Workflow, WorkflowStatus } from '../workflows/workflow.js';
import { compressNodes, decompressNodes } from './node-compression.js';
import type { SqlOffloadRepository } from './offload-repository.js';

export interface HydratorOptions {
  /** `MAX_WORKFLOW_SIZE`: JSON bytes above which nodes are compressed, then offloaded. */
  readonly maxWorkflowSize: number;
  /** `ALWAYS_OFFLOAD_NODE_STATUS`. */
  readonly alwaysOffload: boolean;
  readonly compression: CompressionAlgorithm;
  /** Present when `persistence.nodeStatusOffLoad` is on. */
  readonly offload?: SqlOffloadRepository;
}

const size = (workflow: Workflow) => Buffer.byteLength(JSON.stringify(workflow));

function withoutNodes(status: WorkflowStatus): WorkflowStatus {
  const { nodes: _nodes, compressedNodes: _compressed, offloadNodeStatusVersion: _version, ...rest } = status;
  return rest;
}

/**
 * Argo's hydrator (argo-reference §8.1): a workflow too large to store gets its nodes compressed into
 * `status.compressedNodes`, and if still too large offloaded to SQL under `status.offloadNodeStatusVersion`;
 * reading restores `status.nodes` either way.
 */
export class Hydrator implements NodeStatusCodec {
  readonly #options: HydratorOptions;

  constructor(options: HydratorOptions) {
    this.#options = options;
  }

  async dehydrate(workflow: Workflow): Promise<Workflow> {
    const status = workflow.status;
    if (!status?.nodes || status.compressedNodes || status.offloadNodeStatusVersion) return workflow;
    const { maxWorkflowSize, alwaysOffload, offload } = this.#options;
    let tooLarge = '';
    if (!alwaysOffload) {
      if (size(workflow) <= maxWorkflowSize) return workflow;
      const compressed: Workflow = { ...workflow, status: { ...withoutNodes(status), compressedNodes: await compressNodes(JSON.stringify(status.nodes), this.#options.compression) } };
      const compressedSize = size(compressed);
      if (compressedSize <= maxWorkflowSize) return compressed;
      tooLarge = `workflow is longer than maximum allowed size. compressed size ${compressedSize} > maxSize ${maxWorkflowSize}`;
    }
    if (!offload) throw new InvalidArgumentError(tooLarge || 'offload node status is not supported');
    let version: string;
    try {
      version = await offload.save(workflow.metadata.uid, workflow.metadata.namespace, status.nodes);
    } catch (error) {
      throw new Error(`${tooLarge}Tried to offload but encountered error: ${(error as Error).message}`, { cause: error });
    }
    return { ...workflow, status: { ...withoutNodes(status), offloadNodeStatusVersion: version } };
  }

  async hydrate(workflow: Workflow): Promise<Workflow> {
    const status = workflow.status;
    if (status?.compressedNodes) {
      return { ...workflow, status: { ...withoutNodes(status), nodes: JSON.parse(await decompressNodes(status.compressedNodes)) as WorkflowStatus['nodes'] } };
    }
    if (status?.offloadNodeStatusVersion) {
      if (!this.#options.offload) throw new InvalidArgumentError('offload node status is not supported: configure persistence with nodeStatusOffLoad to read this workflow');
      return { ...workflow, status: { ...withoutNodes(status), nodes: await this.#options.offload.get(workflow.metadata.uid, status.offloadNodeStatusVersion) } };
    }
    return workflow;
  }
}
