import type { SyncTableRefs } from './sync-schema.js';
import { syncFunctionName } from './function-name.js';

/** Bumped whenever the function's body or signature changes. */
const VERSION = 10;

export function acquireFunctionName(tables: SyncTableRefs): string {
  return syncFunctionName('acquire', VERSION, tables);
}

/**
 * One acquisition decision as a single server-side call (PostgreSQL and PGlite), doing exactly what the
 * guarded transaction does statement by statement, so that at its commit the tables hold what Argo's
 * protocol writes: the `sync_lock` guard row of every lock is inserted first (another acquirer waits on it,
 * an Argo controller's committed one fails the insert) and deleted last; only when every lock admits the key
 * (already held, or holders below the limit with this controller's key of the same workflow at the front of the
 * live queue, counting the queue row this attempt adds) and `may_grant`, the key holds each lock (its queue row
 * flipped, or the hold written at once where it had none), each with its next fencing token and grant record;
 * otherwise a queue row is added unless this controller has one for the key.
 *
 * A semaphore's limit is read from its `sync_limit` row (`p_limit_rows`) in the same call, as the release reads
 * it: no round trip before the decision, and never older than a separate read would be; it is returned.
 *
 * It runs as one statement at READ COMMITTED: every statement inside sees what committed before it, so an
 * acquirer that waited on a guard row reads the holders the previous one left, and the guard row serialises
 * acquirers of a lock as Argo's protocol intends; a SERIALIZABLE snapshot taken before that wait would only
 * fail with a serialization error. Lists come as arrays, so the call parses no JSON.
 */
export function acquireFunctionSql(tables: SyncTableRefs): string {
  const { state, lock, controller, limit } = tables;
  return `create or replace function ${acquireFunctionName(tables)}(
    p_controller varchar, p_holder varchar, p_priority int, p_created timestamp, p_now timestamp, p_live_after timestamp,
    p_locks varchar[], p_limits int[], p_limit_rows varchar[], p_may_grant boolean)
  returns table (lock_name varchar, already_held boolean, holder_count int, holder_keys text, front_is_ours boolean, token bigint, limit_value int)
  language plpgsql as $argosync$
  #variable_conflict use_column
  declare
    v_held boolean[] := '{}';
    v_count int[] := '{}';
    v_keys text[] := '{}';
    v_front boolean[] := '{}';
    v_tokens bigint[] := '{}';
    v_parts int := array_length(string_to_array(p_holder, '/'), 1);
    v_ok boolean := p_may_grant;
    v_front_key varchar;
    v_front_controller varchar;
    v_front_priority int;
    v_front_time timestamp;
    v_rows boolean[] := '{}';
    v_has_row boolean;
    v_live boolean;
    v_one_held boolean;
    v_one_count int;
    v_one_limit int;
    v_token bigint;
  begin
    for i in 1 .. coalesce(array_length(p_locks, 1), 0) loop
      insert into ${lock} (name, controller, time) values (p_locks[i], p_controller, p_now);
    end loop;
    for i in 1 .. coalesce(array_length(p_locks, 1), 0) loop
      -- One statement: the limit row (when asked), the holders, the front of the live queue, whether this
      -- controller has a row for the key, and whether it is live.
      select case when p_limit_rows[i] is null then p_limits[i] else (select l.sizelimit from ${limit} l where l.name = p_limit_rows[i]) end,
          h.n, h.ours, f.workflowkey, f.controller, f.priority, f.time,
          exists (select 1 from ${state} m where m.name = p_locks[i] and m.workflowkey = p_holder and m.controller = p_controller),
          exists (select 1 from ${controller} c where c.controller = p_controller and c.time > p_live_after)
        into v_one_limit, v_one_count, v_one_held, v_front_key, v_front_controller, v_front_priority, v_front_time, v_has_row, v_live
        from (select count(*)::int as n, coalesce(bool_or(workflowkey = p_holder), false) as ours from ${state} where name = p_locks[i] and held = true) h
        left join lateral (select q.workflowkey, q.controller, q.priority, q.time from ${state} q
          where q.name = p_locks[i] and q.held = false and q.controller in (select c.controller from ${controller} c where c.time > p_live_after)
          order by q.priority desc, q.time asc, q.workflowkey asc limit 1) f on true;
      v_rows[i] := v_has_row;
      -- The queue row this attempt adds is written only at the end (a grant writes the hold directly, instead of a
      -- queue row and then the update of all five of Argo's indexes): where it will stand in the queue counts now.
      if not v_has_row and v_live and (v_front_key is null or p_priority > v_front_priority
          or (p_priority = v_front_priority and (p_created < v_front_time or (p_created = v_front_time and p_holder < v_front_key)))) then
        v_front_key := p_holder;
        v_front_controller := p_controller;
      end if;
      p_limits[i] := v_one_limit;
      v_held[i] := v_one_held;
      if v_one_held then
        -- Its grant's answer may have been lost with a connection (a hand-off in a release, too): its token again.
        v_tokens[i] := (select g.token from argosync_sync_grant g where g.name = p_locks[i] and g.workflowkey = p_holder and g.controller = p_controller);
      end if;
      v_count[i] := v_one_count;
      -- Argo's isSameWorkflowNodeKeys: as many parts, the same workflow name.
      v_front[i] := coalesce(v_front_controller = p_controller
        and array_length(string_to_array(v_front_key, '/'), 1) = v_parts
        and split_part(v_front_key, '/', 2) = split_part(p_holder, '/', 2), false);
      if not v_one_held and (p_limits[i] is null or p_limits[i] <= 0 or v_one_count >= p_limits[i] or not v_front[i]) then
        v_ok := false;
        -- The waiter's status names the holders (Argo's LockWaiting): read only for a lock it waits on.
        v_keys[i] := (select coalesce(json_agg(workflowkey order by workflowkey)::text, '[]') from ${state} where name = p_locks[i] and held = true);
      end if;
    end loop;
    if v_ok then
      for i in 1 .. coalesce(array_length(p_locks, 1), 0) loop
        continue when v_held[i];
        if v_rows[i] then
          update ${state} set held = true where name = p_locks[i] and workflowkey = p_holder and controller = p_controller;
        else
          insert into ${state} (name, workflowkey, controller, held, priority, time) values (p_locks[i], p_holder, p_controller, true, p_priority, p_created);
        end if;
        insert into argosync_sync_fence (name, token) values (p_locks[i], 1)
          on conflict (name) do update set token = argosync_sync_fence.token + 1
          returning argosync_sync_fence.token into v_token;
        insert into argosync_sync_grant (name, workflowkey, controller, token, granted_at) values (p_locks[i], p_holder, p_controller, v_token, p_now)
          on conflict (name, workflowkey, controller) do update set token = excluded.token, granted_at = excluded.granted_at;
        v_tokens[i] := v_token;
      end loop;
    else
      insert into ${state} (name, workflowkey, controller, held, priority, time)
        select name, p_holder, p_controller, false, p_priority, p_created from unnest(p_locks) as name
        on conflict do nothing;
      -- Only queue rows were written: they need not survive a database crash.
      perform set_config('synchronous_commit', 'off', true);
    end if;
    delete from ${lock} where name = any(p_locks) and controller = p_controller;
    return query select p_locks[i], v_held[i], v_count[i], v_keys[i], v_front[i], v_tokens[i], p_limits[i] from generate_subscripts(p_locks, 1) as i order by i;
  end
  $argosync$`;
}
