import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { readEnvironmentKnobs } from '../../runtime/config/environment-knobs.js';

describe('readEnvironmentKnobs', () => {
  it("uses Argo's defaults when nothing (or an empty value) is set", () => {
    const defaults = {
      maxWorkflowSize: 1_048_576,
      alwaysOffloadNodeStatus: false,
      offloadNodeStatusTtlMs: 300_000,
      workflowGcPeriodMs: 300_000,
      archivedWorkflowGcPeriodMs: 86_400_000,
      workflowCompressionAlgorithm: 'gzip',
      leaderElectionLeaseMs: 15_000,
      leaderElectionRenewDeadlineMs: 10_000,
      leaderElectionRetryPeriodMs: 5_000,
    };
    expect(readEnvironmentKnobs({})).toEqual(defaults);
    expect(readEnvironmentKnobs({ MAX_WORKFLOW_SIZE: '', WORKFLOW_GC_PERIOD: ' ' })).toEqual(defaults);
  });

  it('reads every variable', () => {
    expect(
      readEnvironmentKnobs({
        MAX_WORKFLOW_SIZE: '4096',
        ALWAYS_OFFLOAD_NODE_STATUS: 'true',
        OFFLOAD_NODE_STATUS_TTL: '90s',
        WORKFLOW_GC_PERIOD: '1m30s',
        ARCHIVED_WORKFLOW_GC_PERIOD: '12h',
        WORKFLOW_COMPRESSION_ALGORITHM: 'brotli',
        LEADER_ELECTION_LEASE_DURATION: '3s',
        LEADER_ELECTION_RENEW_DEADLINE: '2s',
        LEADER_ELECTION_RETRY_PERIOD: '500ms',
        LEADER_ELECTION_IDENTITY: 'controller-0',
      }),
    ).toEqual({
      maxWorkflowSize: 4096,
      alwaysOffloadNodeStatus: true,
      offloadNodeStatusTtlMs: 90_000,
      workflowGcPeriodMs: 90_000,
      archivedWorkflowGcPeriodMs: 43_200_000,
      workflowCompressionAlgorithm: 'brotli',
      leaderElectionLeaseMs: 3_000,
      leaderElectionRenewDeadlineMs: 2_000,
      leaderElectionRetryPeriodMs: 500,
      leaderElectionIdentity: 'controller-0',
    });
  });

  it.each([
    ['1', true],
    ['T', true],
    ['True', true],
    ['0', false],
    ['f', false],
    ['FALSE', false],
  ])("reads ALWAYS_OFFLOAD_NODE_STATUS=%s as Go's ParseBool does", (text, value) => {
    expect(readEnvironmentKnobs({ ALWAYS_OFFLOAD_NODE_STATUS: text }).alwaysOffloadNodeStatus).toBe(value);
  });

  it('names every bad variable, its value and what it must be, at once', () => {
    const env = {
      MAX_WORKFLOW_SIZE: '1MB',
      ALWAYS_OFFLOAD_NODE_STATUS: 'yes',
      OFFLOAD_NODE_STATUS_TTL: '5 minutes',
      WORKFLOW_GC_PERIOD: '0s',
      ARCHIVED_WORKFLOW_GC_PERIOD: '1d',
      WORKFLOW_COMPRESSION_ALGORITHM: 'lz4',
    };
    expect(() => readEnvironmentKnobs(env)).toThrow(InvalidArgumentError);
    expect(() => readEnvironmentKnobs(env)).toThrow(
      'invalid environment: MAX_WORKFLOW_SIZE: must be a positive integer number of bytes (got "1MB"); ' +
        'ALWAYS_OFFLOAD_NODE_STATUS: must be true or false (got "yes"); ' +
        'OFFLOAD_NODE_STATUS_TTL: must be a positive Go duration such as 30s, 5m or 24h (got "5 minutes"); ' +
        'WORKFLOW_GC_PERIOD: must be a positive Go duration such as 30s, 5m or 24h (got "0s"); ' +
        'ARCHIVED_WORKFLOW_GC_PERIOD: must be a positive Go duration such as 30s, 5m or 24h (got "1d"); ' +
        'WORKFLOW_COMPRESSION_ALGORITHM: must be gzip or brotli (got "lz4")',
    );
  });

  it('rejects sizes that are zero, negative or not exact integers', () => {
    for (const size of ['0', '-1', '1.5', '1e6', '99999999999999999999']) {
      expect(() => readEnvironmentKnobs({ MAX_WORKFLOW_SIZE: size })).toThrow(`MAX_WORKFLOW_SIZE: must be a positive integer`);
    }
  });

  it("says why Argo's zstd is refused", () => {
    expect(() => readEnvironmentKnobs({ WORKFLOW_COMPRESSION_ALGORITHM: 'zstd' })).toThrow(
      'WORKFLOW_COMPRESSION_ALGORITHM: zstd is not supported by argosync',
    );
  });
});
