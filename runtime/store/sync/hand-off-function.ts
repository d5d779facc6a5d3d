import type { SyncTableRefs } from './sync-schema.js';
import { syncFunctionName } from './function-name.js';
import { recordGrantSql } from './grant-sql.js';

/** Bumped whenever the function's body or signature changes. */
const VERSION = 10;

export function handOffFunctionName(tables: SyncTableRefs): string {
  return syncFunctionName('release', VERSION, tables);
}

/**
 * A release that hands the freed slot to the releasing controller's next waiter in the same transaction
 * (PostgreSQL and PGlite). It deletes the hold and its grant record; then, only when the front of the live
 * queue is one of `p_eligible` (this controller's waiters that need nothing but this lock) and the holders
 * left are below the limit (`p_limit`, or else the `sizelimit` of the `sync_limit` row `p_limit_row`, read in
 * the same transaction), it grants that waiter exactly as an acquisition does: under the `sync_lock` guard
 * row (inserted first, deleted last; a guard another controller keeps committed skips the hand-off), the
 * queue row flipped to a hold, the next fencing token, the grant record.
 *
 * Without a hand-off it announces the freed slot (`p_channel`, `p_payload`) on commit, but only when another
 * controller has a queue row on the lock: the releasing controller wakes its own waiters itself, and an
 * acquisition still deciding elsewhere that found the lock full holds a share lock on the hold deleted here
 * (see acquireFunctionSql), so its queue row is visible by then. A hand-off announces nothing (no slot is
 * left free). The commit is durable: a release undone by a crash would bring back a hold this controller no
 * longer knows of. READ COMMITTED, as the acquisition; the hold is found by its lock and holder key, never
 * through Argo's index on `controller` (see acquireFunctionSql).
 */
export function handOffFunctionSql(tables: SyncTableRefs): string {
  const { state, lock, controller, limit } = tables;
  return `create or replace function ${handOffFunctionName(tables)}(
    p_controller varchar, p_holder varchar, p_lock varchar, p_limit int, p_limit_row varchar, p_eligible varchar[], p_now timestamp, p_live_after timestamp,
    p_channel text, p_payload text)
  returns table (released int, handed_to varchar, token bigint)
  language plpgsql as $argosync$
  #variable_conflict use_column
  declare
    v_guarded boolean := false;
    v_guards int;
    v_released int;
    v_holders int;
    v_limit int;
    v_front_key varchar;
    v_front_controller varchar;
    v_handed varchar;
    v_token bigint;
  begin
    if cardinality(p_eligible) > 0 then
      -- Not an exception block, which would cost a subtransaction: a guard kept committed inserts nothing.
      insert into ${lock} (name, controller, time) values (p_lock, p_controller, p_now) on conflict do nothing;
      get diagnostics v_guards = row_count;
      v_guarded := v_guards > 0;
    end if;
    with hold as (
      delete from ${state} where name = p_lock and workflowkey = p_holder and (controller = p_controller and held) is true returning 1
    ), grant_record as (
      delete from argosync_sync_grant where name = p_lock and workflowkey = p_holder and controller = p_controller
    )
    select count(*)::int into v_released from hold;
    if v_guarded and v_released > 0 then
      v_limit := coalesce(p_limit, (select l.sizelimit from ${limit} l where l.name = p_limit_row));
      select count(*)::int into v_holders from ${state} where name = p_lock and held = true;
      select workflowkey, controller into v_front_key, v_front_controller from ${state}
        where name = p_lock and held = false and controller in (select c.controller from ${controller} c where c.time > p_live_after)
        order by priority desc, time asc, workflowkey asc limit 1;
      if v_holders < v_limit and v_front_controller = p_controller and v_front_key = any(p_eligible) then
        update ${state} set held = true where name = p_lock and workflowkey = v_front_key and (controller = p_controller) is true;
        ${recordGrantSql('p_lock', 'v_front_key', 'p_controller', 'p_now', 'v_token')}
        v_handed := v_front_key;
      end if;
    end if;
    if v_guarded then
      delete from ${lock} where name = p_lock and controller = p_controller;
    end if;
    if v_handed is null and v_released > 0
        and exists (select 1 from ${state} w where w.name = p_lock and not w.held and (w.controller <> p_controller) is true) then
      perform pg_notify(p_channel, p_payload);
    end if;
    released := v_released;
    handed_to := v_handed;
    token := v_token;
    return next;
  end
  $argosync$`;
}
