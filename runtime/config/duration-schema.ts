/**
 * JSON-schema fragments for duration keys, each with the `durationRange` bounds keyword (SPEC §7.6: every
 * seconds or duration key has a minimum and a maximum); `label` is how the bounds read in a message and in the
 * README table.
 */

/** An Argo TTL (`7d`, `12h`) or a Go duration (`1h30m`). */
export const duration = (minMs: number, maxMs: number, label: string) => ({ type: 'string', format: 'duration', durationRange: { minMs, maxMs, label } });

/** A Go `time.Duration` only (`10h`, `240h`; no `d`), for keys Argo reads as `metav1.Duration`. */
export const goDuration = (minMs: number, maxMs: number, label: string) => ({ type: 'string', format: 'go-duration', durationRange: { minMs, maxMs, label } });

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
