/** Argo's in-memory waiting text: available slots over the limit, negative while holders exceed a lowered limit (as Argo prints it). */
export function waitingMessage(lockName: string, available: number, limit: number): string {
  return `Waiting for ${lockName} lock. Lock status: ${available}/${limit}`;
}

/** Argo's database waiting text: current holders over the limit, with the row name. */
export function databaseWaitingMessage(lockName: string, databaseKey: string, holders: number, limit: number): string {
  return `Waiting for ${lockName} lock (${databaseKey}). Lock status: ${holders}/${limit}`;
}

/** argosync's text for a lock whose limit is missing or unusable (SPEC §5 "missing limit waits"). */
export function missingLimitMessage(lockName: string, problem: string): string {
  return `Waiting for ${lockName} lock: ${problem}`;
}
