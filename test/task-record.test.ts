/**
 * TaskRecord on its own: the invariants the tracker relies on, kept by the record's transitions
 * (one request in flight, live scheduler tokens, the cancel's confirm-before-resend course).
 */
import { describe, expect, it } from 'vitest';
import { TaskRecord } from '../src/manager/record.js';
import type { CancelValue, NormalizedStatus, TaskBackend } from '../src/index.js';

const backend: TaskBackend = {
  create: () => Promise.reject(new Error('not used')),
  getStatus: () => Promise.reject(new Error('not used')),
  cancel: () => Promise.reject(new Error('not used')),
};

function record(): TaskRecord {
  return new TaskRecord({ kind: 'job', id: 't1' }, 'job:t1', backend, () => Promise.reject(new Error('not used')));
}

const running: NormalizedStatus = { state: 'running', raw: 'running' };
const pending: NormalizedStatus = { state: 'pending', raw: 'pending' };
const cancelled: CancelValue = { result: 'cancelled', status: { state: 'cancelled', raw: 'cancelled' } };

describe('TaskRecord', () => {
  it('makes every earlier scheduler entry dead when a new one is issued or a request starts', () => {
    const r = record();
    const first = r.nextDue();
    expect(r.isLive('due', first)).toBe(true);
    const second = r.nextDue();
    expect(r.isLive('due', first)).toBe(false);
    r.startRequest('poll');
    expect(r.isLive('due', second)).toBe(false);
    const deadline = r.setDeadline(1_000);
    expect(r.isLive('deadline', deadline)).toBe(true);
    expect(r.isLive('deadline', r.setDeadline(500))).toBe(true);
    expect(r.isLive('deadline', deadline)).toBe(false);
    expect(r.deadline).toBe(500);
  });

  it('stays busy when the answer of a replaced request comes in, and is idle after the latest one', () => {
    const r = record();
    const poll = r.startRequest('poll');
    expect(r.polling).toBe(true);
    const cancel = r.startRequest('cancel');
    expect(r.endRequest(poll.seq)).toBe(true);
    expect(r.idle).toBe(false);
    expect(r.endRequest(cancel.seq)).toBe(true);
    expect(r.idle).toBe(true);
  });

  it('aborts the request in flight, and hands the next request a fresh signal', () => {
    const r = record();
    const { signal } = r.startRequest('poll');
    r.abortRequest();
    expect(signal.aborted).toBe(true);
    expect(r.startRequest('cancel').signal.aborted).toBe(false);
  });

  it('keeps the first reason of a cancel and answers every caller when the API accepts it', async () => {
    const r = record();
    const a = r.askCancel('deadline');
    const b = r.askCancel('user');
    expect([a.first, b.first]).toEqual([true, false]);
    expect(r.cancelReason).toBe('deadline');
    expect(r.cancelDue).toBe(true);
    r.cancelAccepted(cancelled);
    expect(r.cancelWanted).toBe(false);
    await expect(Promise.all([a.answer, b.answer])).resolves.toEqual([cancelled, cancelled]);
  });

  it('after a failed cancel, wants a status read first, then backs off one step per failure', async () => {
    const r = record();
    const { answer } = r.askCancel('deadline');
    expect(r.cancelFailed('failed', new Error('reset'))).toBe(1);
    await expect(answer).rejects.toThrow('reset');
    expect(r.confirming).toBe(true);
    expect(r.cancelDue).toBe(false);
    expect(r.confirmLive(running)).toBe(0);
    expect(r.cancelDue).toBe(true);
    r.askCancel('deadline').answer.catch(() => {});
    expect(r.cancelFailed('failed', new Error('reset again'))).toBe(2);
    expect(r.confirmLive(running)).toBe(1);
  });

  it('holds a cancel refused for a task not yet started until a read shows it started', () => {
    const r = record();
    r.askCancel('shutdown').answer.catch(() => {});
    expect(r.cancelFailed('refused', new Error('not started'))).toBe(0);
    expect(r.confirmLive(pending)).toBeUndefined();
    expect(r.held).toBe(true);
    expect(r.cancelDue).toBe(false);
    expect(r.confirmLive(pending)).toBeUndefined();
    expect(r.confirmLive(running)).toBeUndefined();
    expect(r.held).toBe(false);
    expect(r.cancelDue).toBe(true);
  });

  it('resets the backoff only when the status word changes', () => {
    const r = record();
    expect([r.nextAttempt(), r.nextAttempt()]).toEqual([0, 1]);
    expect(r.noteStatus(running)).toEqual({ previous: undefined });
    expect(r.nextAttempt()).toBe(0);
    expect(r.nextAttempt()).toBe(1);
    expect(r.noteStatus({ ...running })).toBe(false);
    expect(r.nextAttempt()).toBe(2);
  });

  it('when it finishes: answers pending cancels, aborts its request, runs its cleanups, resolves done, and kills its tokens', async () => {
    const r = record();
    const token = r.nextDue();
    const { signal } = r.startRequest('poll');
    const { answer } = r.askCancel('user');
    let cleaned = 0;
    r.onFinish(() => cleaned++);
    const result = { kind: 'job', id: 't1', outcome: 'cancelled', status: 'cancelled' } as const;
    r.finish(result, { value: cancelled });
    expect(r.settled).toBe(true);
    expect(signal.aborted).toBe(true);
    expect(cleaned).toBe(1);
    expect(r.isLive('due', token)).toBe(false);
    expect(r.endRequest(1)).toBe(false);
    await expect(answer).resolves.toEqual(cancelled);
    await expect(r.done).resolves.toEqual(result);
  });
});
