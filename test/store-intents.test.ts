/**
 * Intents (the record `start()` writes before a create leaves, with a `~` placeholder id) in every
 * store: kept through add, update, listExpired and claim, across a FileStore reopen and compaction and
 * in Redis hashes; records without an intent stay exactly as they were; a malformed intent is refused.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../src/stores/file.js';
import { MemoryStore } from '../src/stores/memory.js';
import { RedisStore } from '../src/stores/redis.js';
import type { StoredTask } from '../src/stores/types.js';
import { startRedisServer, type RedisServer } from './helpers/redis-server.js';

const T0 = 1_767_225_600_000;
const FINGERPRINT = createHash('sha256').update('Fix the flaky test in ci.yml').digest('hex');
const INTENT = { fingerprint: FINGERPRINT, sentAt: T0 + 1_234 } as const;

/** An intent record, as `start()` writes it: placeholder id, no status yet. */
const intentRecord = (id: string, owner: string): StoredTask => ({ kind: 'cloud', id, owner, deadline: T0 + 60_000, status: null, trackedAt: T0, intent: INTENT });
const plainRecord = (id: string, owner: string): StoredTask => ({ kind: 'agent', id, owner, deadline: null, status: null, trackedAt: T0 });
const refOf = (task: StoredTask): { kind: string; id: string } => ({ kind: task.kind, id: task.id });
// By code unit, so that a `~` placeholder sorts after every plain id.
const byId = (tasks: readonly StoredTask[]): StoredTask[] => [...tasks].sort((a, b) => (a.id < b.id ? -1 : 1));

/** Malformed intents, each with the field its TypeError names. */
const MALFORMED: readonly (readonly [string, unknown, RegExp])[] = [
  ['null', null, /task\.intent must be an object/],
  ['a string', FINGERPRINT, /task\.intent must be an object/],
  ['an empty fingerprint', { fingerprint: '', sentAt: T0 }, /task\.intent\.fingerprint must be a non-empty string/],
  ['a numeric fingerprint', { fingerprint: 42, sentAt: T0 }, /task\.intent\.fingerprint must be a non-empty string/],
  ['no sentAt', { fingerprint: FINGERPRINT }, /task\.intent\.sentAt must be a finite number/],
  ['a string sentAt', { fingerprint: FINGERPRINT, sentAt: String(T0) }, /task\.intent\.sentAt must be a finite number/],
  ['a NaN sentAt', { fingerprint: FINGERPRINT, sentAt: Number.NaN }, /task\.intent\.sentAt must be a finite number/],
];
const withIntent = (intent: unknown): StoredTask => ({ ...plainRecord('~bad', 'w1'), intent } as unknown as StoredTask);

describe('MemoryStore: intents', () => {
  it('hands an intent back through add → listByOwner and an update; a record without one has no intent key', async () => {
    const store = new MemoryStore();
    await store.open();
    const intent = intentRecord('~3f9c', 'w1');
    await store.add(intent);
    await store.add(plainRecord('run_1', 'w1'));
    await store.update(refOf(intent), { status: 'queued' });
    const [plain, kept] = byId(await store.listByOwner('w1'));
    expect(kept).toEqual({ ...intent, status: 'queued' });
    expect(plain).toEqual(plainRecord('run_1', 'w1'));
    expect(plain).not.toHaveProperty('intent');
    await store.close();
  });
});

describe('FileStore: intents', () => {
  let dir: string;
  let journal: string;
  const stores: FileStore[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'taskguard-intents-'));
    journal = join(dir, 'tasks.jsonl');
  });

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close().catch(() => {})));
    rmSync(dir, { recursive: true, force: true });
  });

  async function opened(workerId: string, fsync: 'always' | 'never' = 'always'): Promise<FileStore> {
    const store = new FileStore({ path: journal, fsync });
    stores.push(store);
    await store.open(workerId);
    return store;
  }

  const lines = (): string[] => readFileSync(journal, 'utf8').split('\n').filter((line) => line !== '');

  it('writes the intent into the add line, and a record without one exactly as before', async () => {
    const store = await opened('w1');
    await store.add(intentRecord('~3f9c', 'w1'));
    await store.add(plainRecord('run_1', 'w1'));
    expect(byId(await store.listByOwner('w1'))).toEqual([plainRecord('run_1', 'w1'), intentRecord('~3f9c', 'w1')]);
    expect(lines()).toEqual([
      `{"op":"add","task":{"kind":"cloud","id":"~3f9c","owner":"w1","deadline":${T0 + 60_000},"status":null,"trackedAt":${T0},"intent":{"fingerprint":"${FINGERPRINT}","sentAt":${T0 + 1_234}}}}`,
      `{"op":"add","task":{"kind":"agent","id":"run_1","owner":"w1","deadline":null,"status":null,"trackedAt":${T0}}}`,
    ]);
    expect((await store.listByOwner('w1')).find((task) => task.id === 'run_1')).not.toHaveProperty('intent');
  });

  it('keeps a dead process’s intent across a reopen, in listExpired, after claim and after another reopen', async () => {
    const first = await opened('w1');
    await first.add(intentRecord('~3f9c', 'w1'));
    await first.add(plainRecord('run_1', 'w1'));
    await first.update({ kind: 'cloud', id: '~3f9c' }, { status: 'sending' });
    await first.close();

    const second = await opened('w2');
    const expired = byId(await second.listExpired('w2'));
    expect(expired).toEqual([plainRecord('run_1', 'w1'), { ...intentRecord('~3f9c', 'w1'), status: 'sending' }]);
    expect(expired[0]).not.toHaveProperty('intent');
    expect(await second.claim({ kind: 'cloud', id: '~3f9c' }, 'w1', 'w2')).toBe(true);
    expect(await second.listByOwner('w2')).toEqual([{ ...intentRecord('~3f9c', 'w2'), status: 'sending' }]);
    await second.close();

    const third = await opened('w3');
    expect(byId(await third.listExpired('w3'))).toEqual([plainRecord('run_1', 'w1'), { ...intentRecord('~3f9c', 'w2'), status: 'sending' }]);
  });

  it('keeps the intent through a compaction and the reopen after it', async () => {
    const store = await opened('w1', 'never');
    await store.add(intentRecord('~3f9c', 'w1'));
    await store.add(plainRecord('run_1', 'w1'));
    // More than 1000 lines and 4× the live records: the store compacts.
    for (let i = 0; i < 600; i++) {
      await store.add(plainRecord(`gone-${i}`, 'w1'));
      await store.remove({ kind: 'agent', id: `gone-${i}` });
    }
    expect(store.stats().compactions).toBeGreaterThanOrEqual(1);
    const kept = lines().filter((line) => !line.includes('gone-'));
    expect(kept.map((line) => JSON.parse(line) as unknown)).toEqual([
      { op: 'add', task: intentRecord('~3f9c', 'w1') },
      { op: 'add', task: plainRecord('run_1', 'w1') },
    ]);
    expect(kept[1]).not.toContain('intent');
    await store.close();

    const reopened = await opened('w2');
    expect(byId(await reopened.listExpired('w2'))).toEqual([plainRecord('run_1', 'w1'), intentRecord('~3f9c', 'w1')]);
  });

  it.each(MALFORMED)('refuses to add an intent that is %s, naming the field, and writes nothing', async (_, intent, message) => {
    const store = await opened('w1');
    const error = await store.add(withIntent(intent)).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(message);
    expect(await store.listByOwner('w1')).toEqual([]);
    expect(readFileSync(journal, 'utf8')).toBe('');
  });

  it('treats a journal line with a malformed intent like any malformed line: corrupt in the middle, torn at the end', async () => {
    const good = JSON.stringify({ op: 'add', task: intentRecord('~good', 'w1') });
    const bad = JSON.stringify({ op: 'add', task: { ...plainRecord('~bad', 'w1'), intent: { fingerprint: FINGERPRINT, sentAt: 'soon' } } });
    writeFileSync(journal, `${good}\n${bad}\n${good}\n`);
    await expect(new FileStore({ path: journal }).open('w2')).rejects.toThrow(/corrupt at line 2 \(byte \d+\): task\.intent\.sentAt must be a finite number/);

    writeFileSync(journal, `${good}\n`);
    appendFileSync(journal, `${bad}\n`);
    const store = await opened('w2');
    expect(await store.listExpired('w2')).toEqual([intentRecord('~good', 'w1')]);
    expect(store.stats().tornBytes).toBe(Buffer.byteLength(bad) + 1);
  });
});

describe('RedisStore: intents', () => {
  let redis: RedisServer;
  let admin: Redis;
  let prefixes = 0;
  const opened: RedisStore[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = new Redis(redis.url, { lazyConnect: true });
    await admin.connect();
  });

  afterAll(async () => {
    admin?.disconnect();
    await redis?.dispose();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  async function openStore(workerId: string, prefix: string): Promise<RedisStore> {
    const store = new RedisStore({ url: redis.url, prefix });
    opened.push(store);
    await store.open(workerId);
    return store;
  }

  const newPrefix = (): string => `tgintent-${process.pid}-${++prefixes}:`;

  it('writes the intent as two hash fields and reads it back; a record without one has neither field nor key', async () => {
    const prefix = newPrefix();
    const store = await openStore('w1', prefix);
    await store.add(intentRecord('~3f9c', 'w1'));
    await store.add(plainRecord('run_1', 'w1'));
    expect(byId(await store.listByOwner('w1'))).toEqual([plainRecord('run_1', 'w1'), intentRecord('~3f9c', 'w1')]);
    expect((await store.listByOwner('w1')).find((task) => task.id === 'run_1')).not.toHaveProperty('intent');
    expect(await admin.hgetall(`${prefix}task:cloud:~3f9c`)).toEqual({
      kind: 'cloud',
      id: '~3f9c',
      owner: 'w1',
      trackedAt: String(T0),
      deadline: String(T0 + 60_000),
      intentFingerprint: FINGERPRINT,
      intentSentAt: String(T0 + 1_234),
    });
    expect(await admin.hgetall(`${prefix}task:agent:run_1`)).toEqual({ kind: 'agent', id: 'run_1', owner: 'w1', trackedAt: String(T0) });

    await store.update({ kind: 'cloud', id: '~3f9c' }, { status: 'sending', deadline: null });
    expect(await store.listByOwner('w1')).toContainEqual({ ...intentRecord('~3f9c', 'w1'), status: 'sending', deadline: null });
    // add replaces a record of the same ref: an intent written again without one loses it.
    await store.add(plainRecord('~3f9c', 'w1'));
    expect(await admin.hexists(`${prefix}task:agent:~3f9c`, 'intentFingerprint')).toBe(0);
  });

  it('shows a dead owner’s intent in listExpired and keeps it on the claimed record', async () => {
    const prefix = newPrefix();
    const survivor = await openStore('survivor', prefix);
    await survivor.renewLease('survivor', 60_000);
    await survivor.add(intentRecord('~3f9c', 'dead'));
    await survivor.add(plainRecord('run_1', 'dead'));
    const expired = byId(await survivor.listExpired('survivor'));
    expect(expired).toEqual([plainRecord('run_1', 'dead'), intentRecord('~3f9c', 'dead')]);
    expect(expired[0]).not.toHaveProperty('intent');
    expect(await survivor.claim({ kind: 'cloud', id: '~3f9c' }, 'dead', 'survivor')).toBe(true);
    expect(await survivor.listByOwner('survivor')).toEqual([intentRecord('~3f9c', 'survivor')]);
  });

  it('keeps the intent when a restarted worker id hands its predecessor’s records to recovery', async () => {
    const prefix = newPrefix();
    const predecessor = await openStore('pod-1', prefix);
    await predecessor.add(intentRecord('~3f9c', 'pod-1'));
    await predecessor.close(); // a crash: it never held a lease

    const successor = await openStore('pod-1', prefix);
    const [inherited] = await successor.listExpired('pod-1');
    expect(inherited?.owner).toMatch(/^pod-1~[0-9a-f]{8}$/);
    expect(inherited).toEqual(intentRecord('~3f9c', inherited!.owner));
    expect(await successor.claim({ kind: 'cloud', id: '~3f9c' }, inherited!.owner, 'pod-1')).toBe(true);
    expect(await successor.listByOwner('pod-1')).toEqual([intentRecord('~3f9c', 'pod-1')]);
  });

  it('skips a hash with half an intent, as it skips one missing its owner', async () => {
    const prefix = newPrefix();
    const store = await openStore('w1', prefix);
    await store.add(intentRecord('~half', 'w1'));
    await store.add(plainRecord('run_1', 'w1'));
    await admin.hdel(`${prefix}task:cloud:~half`, 'intentSentAt');
    expect(await store.listByOwner('w1')).toEqual([plainRecord('run_1', 'w1')]);
  });

  it.each(MALFORMED)('refuses to add an intent that is %s with a TypeError naming the field, and writes nothing', async (_, intent, message) => {
    const prefix = newPrefix();
    const store = await openStore('w1', prefix);
    const error = await store.add(withIntent(intent)).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(message);
    expect(await admin.keys(`${prefix}*`)).toEqual([]);
  });
});
