/**
 * The PL/pgSQL statement that records a grant, shared by the acquisition and the release that hands a slot
 * off (they must write exactly the same rows): it bumps the lock's fencing counter and writes the key's grant
 * record in one statement, leaving the new token in `tokenVariable`. Every argument is an expression of the
 * calling function (its parameters and variables), never a value.
 */
export function recordGrantSql(lock: string, holder: string, controller: string, now: string, tokenVariable: string): string {
  return `with fence as (
          insert into argosync_sync_fence (name, token) values (${lock}, 1)
            on conflict (name) do update set token = argosync_sync_fence.token + 1
            returning argosync_sync_fence.token
        ), grant_record as (
          insert into argosync_sync_grant (name, workflowkey, controller, token, granted_at) select ${lock}, ${holder}, ${controller}, fence.token, ${now} from fence
            on conflict (name, workflowkey, controller) do update set token = excluded.token, granted_at = excluded.granted_at
        )
        select fence.token into ${tokenVariable} from fence;`;
}
