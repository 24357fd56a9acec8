/**
 * The record operations of `RedisStore` on the key layout of `redis-scripts.ts`: each write is one
 * script (atomic across the task hash and the owner sets), each read a pipeline. Checks the records
 * with `records.ts`, as every durable store does.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { refKey, type TaskRef } from '../refs.js';
import type { RedisKeys } from './redis-keys.js';
import { checkOwner, exec, memberOf, optionalFields, patchArg, readTasks } from './redis-records.js';
import { ADD, CLAIM, FORGET_OWNER, REMOVE, runScript, UPDATE } from './redis-scripts.js';
import { checkPatch, checkTask } from './records.js';
import type { StoredTask, StoredTaskPatch } from './types.js';

/** The tasks of a registry under one prefix, read and written through the connection each call is given. */
export class RedisRegistry {
  readonly #keys: RedisKeys;

  constructor(keys: RedisKeys) {
    this.#keys = keys;
  }

  async add(client: Redis, given: StoredTask): Promise<void> {
    const task = checkTask(given, 'RedisStore.add: task');
    const member = refKey(task);
    await runScript(
      client,
      ADD,
      [this.#keys.task(member), this.#keys.tasks(task.owner), this.#keys.owners],
      [this.#keys.prefix, member, task.kind, task.id, task.owner, String(task.trackedAt), ...optionalFields(task)],
    );
  }

  async update(client: Redis, ref: TaskRef, patch: StoredTaskPatch): Promise<void> {
    const member = memberOf(ref, 'update');
    const { owner, deadline, status } = checkPatch(patch, 'RedisStore.update: patch');
    await runScript(
      client,
      UPDATE,
      [this.#keys.task(member), this.#keys.owners],
      [this.#keys.prefix, member, patchArg(owner), patchArg(deadline === undefined || deadline === null ? deadline : String(deadline)), patchArg(status)],
    );
  }

  async remove(client: Redis, ref: TaskRef): Promise<void> {
    const member = memberOf(ref, 'remove');
    await runScript(client, REMOVE, [this.#keys.task(member), this.#keys.owners], [this.#keys.prefix, member]);
  }

  async listByOwner(client: Redis, owner: string): Promise<StoredTask[]> {
    checkOwner(owner, 'listByOwner');
    const members = await client.smembers(this.#keys.tasks(owner));
    return (await readTasks(client, this.#keys, members)).filter((task) => task.owner === owner);
  }

  /** The tasks of every owner but `self` whose lease key is gone. Owners left with nothing are forgotten. */
  async listExpired(client: Redis, self: string): Promise<StoredTask[]> {
    checkOwner(self, 'listExpired');
    const owners = (await client.smembers(this.#keys.owners)).filter((owner) => owner !== self);
    if (owners.length === 0) return [];
    const leases = await exec(client.pipeline(owners.map((owner) => ['exists', this.#keys.lease(owner)])));
    const gone = owners.filter((_, i) => leases[i] === 0);
    if (gone.length === 0) return [];
    const sets = (await exec(client.pipeline(gone.map((owner) => ['smembers', this.#keys.tasks(owner)])))) as string[][];
    const expired: StoredTask[] = [];
    const empty: string[] = [];
    for (const [i, owner] of gone.entries()) {
      const members = sets[i] ?? [];
      if (members.length === 0) empty.push(owner);
      for (const task of await readTasks(client, this.#keys, members)) if (task.owner === owner) expired.push(task);
    }
    for (const owner of empty) {
      await runScript(client, FORGET_OWNER, [this.#keys.lease(owner), this.#keys.tasks(owner), this.#keys.owners], [owner]);
    }
    return expired;
  }

  /** Moves a task from `from` to `to` by the CLAIM script; resolves with whether this call won it. */
  async claim(client: Redis, ref: TaskRef, from: string, to: string): Promise<boolean> {
    const member = memberOf(ref, 'claim');
    checkOwner(from, 'claim');
    checkOwner(to, 'claim');
    const won = await runScript(
      client,
      CLAIM,
      [this.#keys.task(member), this.#keys.lease(from), this.#keys.tasks(from), this.#keys.tasks(to), this.#keys.owners],
      [member, from, to, randomUUID()],
    );
    return won === 1;
  }
}
