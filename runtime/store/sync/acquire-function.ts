import type { SyncTableRefs } from './sync-schema.js';
import { syncFunctionName } from './function-name.js';
import { recordGrantSql } from './grant-sql.js';

/** Bumped whenever the function's body or signature changes. */
const VERSION = 12;

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
 * A key that would be next but finds the lock full share-locks the holds it counted and counts again: a release
 * deleting one of them has either committed (the count drops, and the key may hold at once) or waits for this
 * commit, after which it sees the queue row and announces the freed slot. That is what lets a release stay
 * silent when no other controller waits (see handOffFunctionSql).
 *
 * It runs as one statement at READ COMMITTED: every statement inside sees what committed before it, so an
 * acquirer that waited on a guard row reads the holders the previous one left, and the guard row serialises
 * acquirers of a lock as Argo's protocol intends; a SERIALIZABLE snapshot taken before that wait would only
 * fail with a serialization error. Lists come as arrays, so the call parses no JSON.
 *
 * Every read of a lock's rows is keyed by the lock's name (and the holder key where it has one): Argo's
 * low-cardinality indexes on `controller` and `held` are never usable for them (a comparison written as
 * `(...) is true` is not an index condition), so a plan made while the table was empty cannot turn into a
 * scan of every row of the controller once the table has grown.
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
    v_count int := coalesce(array_length(p_locks, 1), 0);
    v_held boolean[] := '{}';
    v_holders int[] := '{}';
    v_keys text[] := '{}';
    v_front boolean[] := '{}';
    v_rows boolean[] := '{}';
    v_tokens bigint[] := '{}';
    v_parts int := array_length(string_to_array(p_holder, '/'), 1);
    v_ok boolean := p_may_grant;
    v_front_key varchar;
    v_front_controller varchar;
    v_front_priority int;
    v_front_time timestamp;
    v_one_count int;
    v_one_held boolean;
    v_has_row boolean;
    v_queued int;
    v_one_limit int;
    v_live boolean;
    v_token bigint;
  begin
    insert into ${lock} (name, controller, time) select l, p_controller, p_now from unnest(p_locks) as l;
    for i in 1 .. v_count loop
      -- One pass over the lock's rows: holders, whether the key holds, whether this controller has a row for it,
      -- how many rows queue; with the limit row (when asked) and whether this controller is live.
      select count(*) filter (where s.held), coalesce(bool_or(s.held and s.workflowkey = p_holder), false),
          coalesce(bool_or(s.workflowkey = p_holder and s.controller = p_controller), false), count(*) filter (where not s.held),
          case when p_limit_rows[i] is null then p_limits[i] else (select l.sizelimit from ${limit} l where l.name = p_limit_rows[i]) end,
          exists (select 1 from ${controller} c where c.controller = p_controller and c.time > p_live_after)
        into v_one_count, v_one_held, v_has_row, v_queued, v_one_limit, v_live
        from ${state} s where s.name = p_locks[i];
      v_front_key := null;
      v_front_controller := null;
      if v_queued > 0 then
        select q.workflowkey, q.controller, q.priority, q.time into v_front_key, v_front_controller, v_front_priority, v_front_time from ${state} q
          where q.name = p_locks[i] and not q.held and q.controller in (select c.controller from ${controller} c where c.time > p_live_after)
          order by q.priority desc, q.time asc, q.workflowkey asc limit 1;
      end if;
      -- The queue row this attempt adds is written only at the end (a grant writes the hold directly, instead of a
      -- queue row and then the update of all five of Argo's indexes): where it will stand in the queue counts now.
      if not v_has_row and v_live and (v_front_key is null or p_priority > v_front_priority
          or (p_priority = v_front_priority and (p_created < v_front_time or (p_created = v_front_time and p_holder < v_front_key)))) then
        v_front_key := p_holder;
        v_front_controller := p_controller;
      end if;
      -- Argo's isSameWorkflowNodeKeys: as many parts, the same workflow name.
      v_front[i] := coalesce(v_front_controller = p_controller
        and array_length(string_to_array(v_front_key, '/'), 1) = v_parts
        and split_part(v_front_key, '/', 2) = split_part(p_holder, '/', 2), false);
      if not v_one_held and v_front[i] and v_one_limit > 0 and v_one_count >= v_one_limit then
        select count(*) into v_one_count from (select 1 from ${state} h where h.name = p_locks[i] and h.held for share) counted;
      end if;
      v_held[i] := v_one_held;
      v_rows[i] := v_has_row;
      v_holders[i] := v_one_count;
      p_limits[i] := v_one_limit;
      if v_one_held then
        -- Its grant's answer may have been lost with a connection (a hand-off in a release, too): its token again.
        v_tokens[i] := (select g.token from argosync_sync_grant g where g.name = p_locks[i] and g.workflowkey = p_holder and g.controller = p_controller);
      elsif v_one_limit is null or v_one_limit <= 0 or v_one_count >= v_one_limit or not v_front[i] then
        v_ok := false;
        -- The waiter's status names the holders (Argo's LockWaiting): read only for a lock it waits on.
        v_keys[i] := (select coalesce(json_agg(workflowkey order by workflowkey)::text, '[]') from ${state} where name = p_locks[i] and held);
      end if;
    end loop;
    if v_ok then
      for i in 1 .. v_count loop
        continue when v_held[i];
        if v_rows[i] then
          update ${state} set held = true where name = p_locks[i] and workflowkey = p_holder and (controller = p_controller) is true;
        else
          insert into ${state} (name, workflowkey, controller, held, priority, time) values (p_locks[i], p_holder, p_controller, true, p_priority, p_created);
        end if;
        ${recordGrantSql('p_locks[i]', 'p_holder', 'p_controller', 'p_now', 'v_token')}
        v_tokens[i] := v_token;
      end loop;
    else
      insert into ${state} (name, workflowkey, controller, held, priority, time)
        select l, p_holder, p_controller, false, p_priority, p_created from unnest(p_locks) as l
        on conflict do nothing;
      -- Only queue rows were written: they need not survive a database crash.
      perform set_config('synchronous_commit', 'off', true);
    end if;
    delete from ${lock} where name = any(p_locks) and controller = p_controller;
    for i in 1 .. v_count loop
      lock_name := p_locks[i];
      already_held := v_held[i];
      holder_count := v_holders[i];
      holder_keys := v_keys[i];
      front_is_ours := v_front[i];
      token := v_tokens[i];
      limit_value := p_limits[i];
      return next;
    end loop;
  end
  $argosync$`;
}
