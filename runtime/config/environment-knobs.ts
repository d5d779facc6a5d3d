import { InvalidArgumentError } from '../errors.js';
import { parseGoDuration } from './duration.js';

export type CompressionAlgorithm = 'gzip' | 'brotli';

/** Argo's size, garbage-collection and leader-election environment variables (SPEC §3), with Argo's defaults. */
export interface EnvironmentKnobs {
  /** `MAX_WORKFLOW_SIZE`: JSON bytes of a workflow above which nodes are compressed, then offloaded. */
  readonly maxWorkflowSize: number;
  /** `ALWAYS_OFFLOAD_NODE_STATUS`: offload without trying compression first. */
  readonly alwaysOffloadNodeStatus: boolean;
  /** `OFFLOAD_NODE_STATUS_TTL`: age after which a non-live offload row may be collected. */
  readonly offloadNodeStatusTtlMs: number;
  /** `WORKFLOW_GC_PERIOD`: period of the offload garbage collection. */
  readonly workflowGcPeriodMs: number;
  /** `ARCHIVED_WORKFLOW_GC_PERIOD`: period of the archive TTL collection. */
  readonly archivedWorkflowGcPeriodMs: number;
  /** `WORKFLOW_COMPRESSION_ALGORITHM`: how `status.compressedNodes` is written. */
  readonly workflowCompressionAlgorithm: CompressionAlgorithm;
  /** `LEADER_ELECTION_LEASE_DURATION`: how long the controller lease lasts without renewal. */
  readonly leaderElectionLeaseMs: number;
  /** `LEADER_ELECTION_RENEW_DEADLINE`: how long a leader keeps leading while it cannot reach the lease. */
  readonly leaderElectionRenewDeadlineMs: number;
  /** `LEADER_ELECTION_RETRY_PERIOD`: how often the lease is renewed or tried. */
  readonly leaderElectionRetryPeriodMs: number;
  /** `LEADER_ELECTION_IDENTITY`: this replica's name in the lease (Argo sets it to the Pod name). */
  readonly leaderElectionIdentity?: string;
}

type Env = Readonly<Record<string, string | undefined>>;
/** A parsed value, or the reason the text is not one. */
type Read<T> = (text: string) => { readonly value: T } | { readonly reason: string };

// Go's strconv.ParseBool, which Argo's env helpers use.
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

const positiveInteger: Read<number> = (text) =>
  /^\d+$/.test(text) && Number(text) > 0 && Number.isSafeInteger(Number(text))
    ? { value: Number(text) }
    : { reason: 'must be a positive integer number of bytes' };

const boolean: Read<boolean> = (text) =>
  TRUE.has(text) ? { value: true } : FALSE.has(text) ? { value: false } : { reason: 'must be true or false' };

/** Node's timers fire at once past 2^31-1 ms (about 24.8 days), so a period drives a timer only below that (SPEC §7.6). */
const MAX_PERIOD_MS = 24 * 86_400_000;

const positiveDuration: Read<number> = (text) => {
  const ms = parseGoDuration(text);
  if (ms === undefined || !(ms > 0)) return { reason: 'must be a positive Go duration such as 30s, 5m or 24h' };
  return ms <= MAX_PERIOD_MS ? { value: ms } : { reason: 'must be at most 576h (24 days)' };
};

const compression: Read<CompressionAlgorithm> = (text) => {
  if (text === 'gzip' || text === 'brotli') return { value: text };
  if (text === 'zstd') return { reason: 'zstd is not supported by argosync (Node.js 20 has no zstd); use gzip or brotli' };
  return { reason: 'must be gzip or brotli' };
};

/**
 * Reads the knobs from the environment; an unset or empty variable takes Argo's default.
 * Throws one InvalidArgumentError naming every bad variable, its value and what it must be.
 */
export function readEnvironmentKnobs(env: Env = process.env): EnvironmentKnobs {
  const problems: string[] = [];
  function read<T>(name: string, parse: Read<T>, fallback: T): T {
    const text = env[name]?.trim();
    if (text === undefined || text === '') return fallback;
    const parsed = parse(text);
    if ('value' in parsed) return parsed.value;
    problems.push(`${name}: ${parsed.reason} (got ${JSON.stringify(text)})`);
    return fallback;
  }
  const knobs: EnvironmentKnobs = {
    maxWorkflowSize: read('MAX_WORKFLOW_SIZE', positiveInteger, 1_048_576),
    alwaysOffloadNodeStatus: read('ALWAYS_OFFLOAD_NODE_STATUS', boolean, false),
    offloadNodeStatusTtlMs: read('OFFLOAD_NODE_STATUS_TTL', positiveDuration, 300_000),
    workflowGcPeriodMs: read('WORKFLOW_GC_PERIOD', positiveDuration, 300_000),
    archivedWorkflowGcPeriodMs: read('ARCHIVED_WORKFLOW_GC_PERIOD', positiveDuration, 86_400_000),
    workflowCompressionAlgorithm: read('WORKFLOW_COMPRESSION_ALGORITHM', compression, 'gzip'),
    leaderElectionLeaseMs: read('LEADER_ELECTION_LEASE_DURATION', positiveDuration, 15_000),
    leaderElectionRenewDeadlineMs: read('LEADER_ELECTION_RENEW_DEADLINE', positiveDuration, 10_000),
    leaderElectionRetryPeriodMs: read('LEADER_ELECTION_RETRY_PERIOD', positiveDuration, 5_000),
    ...(env.LEADER_ELECTION_IDENTITY?.trim() ? { leaderElectionIdentity: env.LEADER_ELECTION_IDENTITY.trim() } : {}),
  };
  if (problems.length > 0) throw new InvalidArgumentError(`invalid environment: ${problems.join('; ')}`);
  return Object.freeze(knobs);
}
