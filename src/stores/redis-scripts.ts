/**
 * The Lua scripts of `RedisStore`: every write that touches more than one key runs as one script, so
 * another worker (or a reconnect that resends a command) never sees a task hash and the owner sets
 * disagree. Scripts run by EVALSHA, falling back to EVAL when the server does not know them (a
 * restarted Redis has an empty script cache).
 *
 * Key layout, all under the prefix `P` (`taskguard:` by default), with `<member>` = `<kind>:<id>`:
 *
 * - `P task:<member>`  hash `kind id owner trackedAt [deadline] [status] [intentFingerprint intentSentAt]`
 *   (a null field is absent; the intent pair is there only on an intent, both or neither);
 * - `P tasks:<owner>`  set of the members an owner tracks;
 * - `P owners`         set of the owners that have (or had) tasks;
 * - `P lease:<owner>`  string with a TTL (`SET … PX leaseMs`): present while the owner is alive;
 * - `P fleet`          the pub/sub channel of fleet messages (JSON).
 *
 * The scripts build the owner-set and lease keys of owners they only learn inside the script from the
 * prefix (passed in ARGV). On Redis Cluster this is fine only when every key hashes to one slot: give a
 * prefix with a hash tag, such as `{taskguard}:`.
 * @module
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A Lua script and its SHA-1, as EVALSHA wants it. */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, source: string): LuaScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Records a task, replacing a record of the same ref (and taking it out of its former owner's set).
 * KEYS: task, tasks:<owner>, owners. ARGV: prefix, member, kind, id, owner, trackedAt, then field/value
 * pairs of the optional fields present (deadline, status, intentFingerprint, intentSentAt).
 */
export const ADD = script(
  'add',
  `local old = redis.call('HGET', KEYS[1], 'owner')
if old and old ~= ARGV[5] then redis.call('SREM', ARGV[1] .. 'tasks:' .. old, ARGV[2]) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'kind', ARGV[3], 'id', ARGV[4], 'owner', ARGV[5], 'trackedAt', ARGV[6], unpack(ARGV, 7))
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[5])
return 1`,
);

/**
 * Patches a record; a missing record is left missing. Each of owner, deadline, status comes as one
 * argument: `u` unchanged, `n` null (field removed), `v<value>` the new value.
 * KEYS: task, owners. ARGV: prefix, member, owner, deadline, status.
 */
export const UPDATE = script(
  'update',
  `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local function apply(field, op)
  local tag = string.sub(op, 1, 1)
  if tag == 'n' then redis.call('HDEL', KEYS[1], field)
  elseif tag == 'v' then redis.call('HSET', KEYS[1], field, string.sub(op, 2)) end
end
apply('deadline', ARGV[4])
apply('status', ARGV[5])
if string.sub(ARGV[3], 1, 1) == 'v' then
  local owner = string.sub(ARGV[3], 2)
  local old = redis.call('HGET', KEYS[1], 'owner')
  if old ~= owner then
    if old then redis.call('SREM', ARGV[1] .. 'tasks:' .. old, ARGV[2]) end
    redis.call('HSET', KEYS[1], 'owner', owner)
    redis.call('SADD', ARGV[1] .. 'tasks:' .. owner, ARGV[2])
    redis.call('SADD', KEYS[2], owner)
  end
end
return 1`,
);

/**
 * Forgets a task; an owner left with no task and no lease leaves the owners set.
 * KEYS: task, owners. ARGV: prefix, member.
 */
export const REMOVE = script(
  'remove',
  `local owner = redis.call('HGET', KEYS[1], 'owner')
redis.call('DEL', KEYS[1])
if not owner then return 0 end
local set = ARGV[1] .. 'tasks:' .. owner
redis.call('SREM', set, ARGV[2])
if redis.call('SCARD', set) == 0 and redis.call('EXISTS', ARGV[1] .. 'lease:' .. owner) == 0 then
  redis.call('SREM', KEYS[2], owner)
end
return 1`,
);

/**
 * Moves a task from `from` to `to` if it still belongs to `from` and `from` has no lease: the one
 * atomic step that makes two workers never both claim a task. The claim token makes the script
 * idempotent for its caller: a claim resent after a reconnect (it ran, the answer was lost) answers 1
 * again instead of 0.
 * KEYS: task, lease:<from>, tasks:<from>, tasks:<to>, owners. ARGV: member, from, to, token.
 */
export const CLAIM = script(
  'claim',
  `local owner = redis.call('HGET', KEYS[1], 'owner')
if owner == ARGV[3] and redis.call('HGET', KEYS[1], 'claim') == ARGV[4] then return 1 end
if owner ~= ARGV[2] then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'owner', ARGV[3], 'claim', ARGV[4])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('SADD', KEYS[5], ARGV[3])
if redis.call('SCARD', KEYS[3]) == 0 then redis.call('SREM', KEYS[5], ARGV[2]) end
return 1`,
);

/**
 * Sets the lease and answers whether it was still there (0: it had expired, or never existed).
 * KEYS: lease. ARGV: value, leaseMs.
 */
export const RENEW = script(
  'renew',
  `local had = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return had`,
);

/**
 * Ends a lease; an owner with no task left leaves the owners set.
 * KEYS: lease, tasks:<owner>, owners. ARGV: owner.
 */
export const RELEASE = script(
  'release',
  `redis.call('DEL', KEYS[1])
if redis.call('SCARD', KEYS[2]) == 0 then redis.call('SREM', KEYS[3], ARGV[1]) end
return 1`,
);

/**
 * Takes the owners set entry of an owner out if it has neither lease nor task (garbage collection).
 * KEYS: lease, tasks:<owner>, owners. ARGV: owner.
 */
export const FORGET_OWNER = script(
  'forgetOwner',
  `if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('SCARD', KEYS[2]) == 0 then
  return redis.call('SREM', KEYS[3], ARGV[1])
end
return 0`,
);

/**
 * Opening for a worker id: if its lease is held, answers `{0, pttl}`. Otherwise the tasks still listed
 * under that id belong to a dead predecessor with the same id (a restarted pod): they move to
 * `inheritedOwner`, which has no lease, so `listExpired` finds them (also for this very worker).
 * Answers `{1, tasks moved}`.
 * KEYS: lease, tasks:<owner>, owners. ARGV: prefix, inheritedOwner.
 */
export const OPEN = script(
  'open',
  `local ttl = redis.call('PTTL', KEYS[1])
if ttl ~= -2 then return {0, ttl} end
local moved = 0
for _, member in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local task = ARGV[1] .. 'task:' .. member
  if redis.call('EXISTS', task) == 1 then
    redis.call('HSET', task, 'owner', ARGV[2])
    moved = moved + 1
  else
    redis.call('SREM', KEYS[2], member)
  end
end
if moved > 0 then
  redis.call('RENAME', KEYS[2], ARGV[1] .. 'tasks:' .. ARGV[2])
  redis.call('SADD', KEYS[3], ARGV[2])
end
return {1, moved}`,
);

/** Runs a script by EVALSHA, loading it with EVAL if the server does not have it. */
export async function runScript(client: Redis, lua: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  try {
    return await client.evalsha(lua.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.eval(lua.source, keys.length, ...keys, ...args);
  }
}
