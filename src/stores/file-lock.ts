/**
 * The exclusive lock of a {@link FileStore} journal: `<path>.lock`, created with `wx` and holding the
 * owner's `{ pid, workerId, hostname }` (plus what tells a reused pid apart on Linux). A lock whose
 * process is gone is stale: the previous owner crashed, and the lock is taken over.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a lock file holds. */
export interface LockInfo {
  readonly pid: number;
  readonly workerId: string;
  readonly hostname: string;
  /** Linux: `/proc/sys/kernel/random/boot_id`; a lock from before a reboot is stale whatever its pid. */
  readonly bootId?: string;
  /** Linux: the owner's start time (`/proc/<pid>/stat` field 22); a different one means the pid was reused. */
  readonly startTime?: string;
  /** Tells this lock apart from any other, so a takeover or a release never removes someone else's lock. */
  readonly nonce: string;
  readonly createdAt: number;
}

/** Lock files held by this process (any copy of this module), so a lock naming our own pid is told apart. */
const HELD: Set<string> = ((globalThis as Record<symbol, unknown>)[Symbol.for('taskguard.FileStore.locks')] ??= new Set<string>()) as Set<string>;

/** How long a lock file that does not parse yet may be one being written right now. */
const YOUNG_LOCK_MS = 2_000;

/** Takes the lock or rejects with an error naming the journal and the pid that holds it. */
export async function acquireLock(lockPath: string, journalPath: string, workerId: string): Promise<LockInfo> {
  const mine = await describeSelf(workerId);
  const serialized = `${JSON.stringify(mine)}\n`;
  const deadline = Date.now() + YOUNG_LOCK_MS + 1_000;
  for (;;) {
    if (await tryCreate(lockPath, serialized)) return held(lockPath, mine);
    const found = await readLock(lockPath);
    if (found === undefined) continue; // removed between our create and our read: try again
    if (found.info === undefined) {
      // Being written right now by the process that created it, or left empty by one that crashed then.
      if (found.ageMs < YOUNG_LOCK_MS && Date.now() < deadline) {
        await sleep(25);
        continue;
      }
    } else {
      const verdict = await liveness(found.info, lockPath);
      if (verdict === 'alive') throw lockedError(journalPath, lockPath, found.info);
      if (verdict === 'elsewhere') throw elsewhereError(journalPath, lockPath, found.info);
    }
    // The previous owner is gone: take its lock over. Only one contender can win the create below.
    await removeStale(lockPath, journalPath, found.raw);
    if (await tryCreate(lockPath, serialized)) return held(lockPath, mine);
    const winner = await readLock(lockPath);
    throw winner?.info
      ? lockedError(journalPath, lockPath, winner.info)
      : new Error(`FileStore: ${journalPath} is locked: another process took over the stale lock ${lockPath} first; two processes cannot share a FileStore journal`);
  }
}

/** Removes the lock if it is still ours (a takeover by someone else is left alone). */
export async function releaseLock(lockPath: string, mine: LockInfo): Promise<void> {
  HELD.delete(lockPath);
  const found = await readLock(lockPath);
  if (found?.info?.nonce === mine.nonce) await unlink(lockPath).catch(ignoreMissing);
}

/**
 * Checks that the lock is still ours; recreates it if someone deleted it. Rejects if another process
 * holds it now: this store no longer owns the journal and must stop writing.
 */
export async function verifyLock(lockPath: string, journalPath: string, mine: LockInfo): Promise<void> {
  const found = await readLock(lockPath);
  if (found?.info?.nonce === mine.nonce) return;
  if (found === undefined && (await tryCreate(lockPath, `${JSON.stringify(mine)}\n`))) return;
  const holder = found?.info ?? (await readLock(lockPath))?.info;
  throw new Error(
    `FileStore: lost the lock of ${journalPath}: ${lockPath} ${holder ? `now names pid ${holder.pid} (workerId "${holder.workerId}")` : 'was replaced'}; ` +
      'this store stopped writing, since two processes cannot share a FileStore journal',
  );
}

function held(lockPath: string, mine: LockInfo): LockInfo {
  HELD.add(lockPath);
  return mine;
}

async function tryCreate(lockPath: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, 'wx');
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
  return true;
}

interface FoundLock {
  readonly raw: string;
  readonly info: LockInfo | undefined;
  readonly ageMs: number;
}

async function readLock(lockPath: string): Promise<FoundLock | undefined> {
  try {
    const [raw, stats] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    return { raw, info: parseLock(raw), ageMs: Date.now() - stats.mtimeMs };
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function parseLock(raw: string): LockInfo | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockInfo> | null;
    if (typeof value !== 'object' || value === null) return undefined;
    const { pid, workerId, hostname: host, nonce } = value;
    if (!Number.isSafeInteger(pid) || (pid as number) <= 0 || typeof workerId !== 'string' || typeof host !== 'string' || typeof nonce !== 'string') return undefined;
    return value as LockInfo;
  } catch {
    return undefined;
  }
}

/**
 * Moves the stale lock aside, then checks that what it moved is the stale lock it read: if a contender
 * replaced the lock meanwhile, that lock is put back (a hard link never overwrites) and the contender wins.
 */
async function removeStale(lockPath: string, journalPath: string, raw: string): Promise<void> {
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return; // someone else removed it first
    throw error;
  }
  const moved = await readFile(aside, 'utf8').catch(() => raw);
  if (moved !== raw) {
    await link(aside, lockPath).catch(() => {});
    await unlink(aside).catch(ignoreMissing);
    const info = parseLock(moved);
    if (info) throw lockedError(journalPath, lockPath, info);
    return;
  }
  await unlink(aside).catch(ignoreMissing);
}

async function liveness(info: LockInfo, lockPath: string): Promise<'alive' | 'dead' | 'elsewhere'> {
  if (info.hostname !== hostname()) return 'elsewhere';
  const bootId = await currentBootId();
  if (bootId !== undefined && info.bootId !== undefined && info.bootId !== bootId) return 'dead';
  // Our own pid: alive if this process holds the lock, else a previous process that had the same pid.
  if (info.pid === process.pid) return HELD.has(lockPath) ? 'alive' : 'dead';
  try {
    process.kill(info.pid, 0);
  } catch (error) {
    if (codeOf(error) === 'ESRCH') return 'dead';
    if (codeOf(error) !== 'EPERM') throw error;
  }
  if (info.startTime !== undefined) {
    const startTime = await startTimeOf(info.pid);
    if (startTime !== undefined && startTime !== info.startTime) return 'dead';
  }
  return 'alive';
}

function lockedError(journalPath: string, lockPath: string, info: LockInfo): Error {
  const who = info.pid === process.pid ? 'this process (another FileStore has it open)' : `workerId "${info.workerId}" on ${info.hostname}`;
  return Object.assign(
    new Error(`FileStore: ${journalPath} is locked by pid ${info.pid} (${who}; lock file ${lockPath}); two processes cannot share a FileStore journal`),
    { code: 'ELOCKED', pid: info.pid },
  );
}

function elsewhereError(journalPath: string, lockPath: string, info: LockInfo): Error {
  return Object.assign(
    new Error(
      `FileStore: ${journalPath} is locked by pid ${info.pid} on host ${info.hostname}, not this host (${hostname()}): whether that process lives cannot be checked from here. ` +
        `A FileStore journal belongs on a local disk; if that process is gone, delete ${lockPath}.`,
    ),
    { code: 'ELOCKED', pid: info.pid },
  );
}

async function describeSelf(workerId: string): Promise<LockInfo> {
  const [bootId, startTime] = await Promise.all([currentBootId(), startTimeOf(process.pid)]);
  return {
    pid: process.pid,
    workerId,
    hostname: hostname(),
    ...(bootId === undefined ? {} : { bootId }),
    ...(startTime === undefined ? {} : { startTime }),
    nonce: randomBytes(8).toString('hex'),
    createdAt: Date.now(),
  };
}

let bootIdOnce: Promise<string | undefined> | undefined;

function currentBootId(): Promise<string | undefined> {
  bootIdOnce ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
    (id) => id.trim() || undefined,
    () => undefined,
  );
  return bootIdOnce;
}

/** Linux: a process's start time in clock ticks since boot, or undefined where /proc does not tell. */
async function startTimeOf(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command) may hold spaces and parentheses: count from the last ')'. Field 22 is the start time.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

function codeOf(error: unknown): unknown {
  return (error as NodeJS.ErrnoException | null)?.code;
}

function ignoreMissing(error: unknown): void {
  if (codeOf(error) !== 'ENOENT') throw error;
}
