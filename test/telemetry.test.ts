/**
 * OpenTelemetry, end to end with the real SDK: a MeterProvider read on demand and a tracer provider
 * exporting to memory, registered globally AFTER this file imported taskguard (as an app that sets up its
 * SDK at start-up does), then a manager and clients made and run against the simulator.
 */
import { context, metrics, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, DataPointType, MeterProvider, MetricReader, type DataPoint, type Histogram, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentClient, CloudClient, NotFoundError, TaskManager } from '../src/index.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';

/** A reader the test collects from when it wants (no export interval). */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** The SDK of one test, registered as the global providers. */
interface Sdk {
  readonly reader: OnDemandReader;
  readonly spans: InMemorySpanExporter;
  collect(): Promise<ResourceMetrics>;
  shutdown(): Promise<void>;
}

function registerSdk(temporality = AggregationTemporality.CUMULATIVE): Sdk {
  const reader = new OnDemandReader({ aggregationTemporalitySelector: () => temporality });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  // What NodeSDK installs: spans follow async work, so a task's polls can be its span's children.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  metrics.setGlobalMeterProvider(meterProvider);
  trace.setGlobalTracerProvider(tracerProvider);
  return {
    reader,
    spans,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      expect(errors).toEqual([]);
      return resourceMetrics;
    },
    async shutdown() {
      await Promise.all([meterProvider.shutdown(), tracerProvider.shutdown()]);
    },
  };
}

let sim: Simulator;
let sdk: Sdk | undefined;
const managers: TaskManager[] = [];

beforeEach(async () => {
  sim = await createSimulator({ seed: 7, queuedMs: 20, savingMs: 20 });
});

afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
  metrics.disable();
  trace.disable();
  context.disable();
  await sdk?.shutdown();
  sdk = undefined;
  await sim.close();
});

function taskguardMetrics(resourceMetrics: ResourceMetrics): Map<string, MetricData> {
  const found = new Map<string, MetricData>();
  for (const scope of resourceMetrics.scopeMetrics) {
    if (scope.scope.name !== 'taskguard') continue;
    for (const metric of scope.metrics) found.set(metric.descriptor.name, metric);
  }
  return found;
}

function sumPoints(metric: MetricData | undefined): { attributes: Attributes; value: number }[] {
  expect(metric?.dataPointType === DataPointType.SUM || metric?.dataPointType === DataPointType.GAUGE).toBe(true);
  return (metric!.dataPoints as DataPoint<number>[]).map(({ attributes, value }) => ({ attributes, value }));
}

function histogramPoints(metric: MetricData | undefined): { attributes: Attributes; count: number; sum: number }[] {
  expect(metric?.dataPointType).toBe(DataPointType.HISTOGRAM);
  return (metric!.dataPoints as DataPoint<Histogram>[]).map(({ attributes, value }) => ({ attributes, count: value.count, sum: value.sum ?? Number.NaN }));
}

/** Every string a backend would store: names, attribute values, event attributes, status messages. */
function exportedStrings(spans: readonly ReadableSpan[], resourceMetrics: ResourceMetrics): string[] {
  const strings: string[] = [];
  const add = (attributes: Attributes | undefined): void => {
    for (const [key, value] of Object.entries(attributes ?? {})) strings.push(key, JSON.stringify(value));
  };
  for (const span of spans) {
    strings.push(span.name, span.status.message ?? '');
    add(span.attributes);
    for (const event of span.events) {
      strings.push(event.name);
      add(event.attributes);
    }
  }
  for (const metric of taskguardMetrics(resourceMetrics).values()) for (const point of metric.dataPoints) add(point.attributes);
  return strings;
}

const PROMPT = 'Draft the confidential merger memo';

describe('OpenTelemetry', () => {
  it('reports the metrics and spans of a manager made after the SDK was registered, without keys or prompts', async () => {
    sdk = registerSdk();
    const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, retryBackoff: { initialMs: 20 } });
    const cloud = new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url, retryBackoff: { initialMs: 20 } });
    const manager = new TaskManager({ agent, cloud, concurrency: 4, poll: { initialMs: 20, maxMs: 100, jitter: 0 } });
    managers.push(manager);

    const slow = await manager.start('agent', { prompt: `${PROMPT} [sim:duration=never]` }, { timeoutMs: 300 });
    const quick = await manager.start('agent', { prompt: `${PROMPT}, quickly [sim:duration=100]` });
    const { task } = sim.createCloudTask({ durationMs: 60_000, prompt: PROMPT });
    const stopped = manager.track({ kind: 'cloud', id: task.id }, { timeoutMs: 300 });
    const results = await Promise.all([slow.done, quick.done, stopped.done]);
    expect(results.map((r) => r.outcome)).toEqual(['timed_out', 'completed', 'timed_out']);

    // One of each remaining operation, and a failed request.
    await agent.rename(quick.created.runId, 'Merger memo');
    await agent.listTasks({ limit: 10 });
    await agent.getTask(quick.created.runId);
    await agent.getLogs(quick.created.runId);
    for await (const event of agent.streamLogs(quick.created.runId)) if (event.type === 'finish') break;
    await expect(agent.getStatus('no-such-run')).rejects.toBeInstanceOf(NotFoundError);

    const resourceMetrics = await sdk.collect();
    const found = taskguardMetrics(resourceMetrics);
    expect([...found.keys()].sort()).toEqual([
      'taskguard.api.request.duration',
      'taskguard.api.requests',
      'taskguard.cancel.lateness',
      'taskguard.concurrency.limit',
      'taskguard.tasks.active',
      'taskguard.tasks.settled',
    ]);
    expect(found.get('taskguard.api.request.duration')?.descriptor.unit).toBe('s');
    expect(found.get('taskguard.cancel.lateness')?.descriptor.unit).toBe('s');

    // Every task that was tracked has settled: the active count is back to 0 for each kind.
    expect(sumPoints(found.get('taskguard.tasks.active'))).toEqual(
      expect.arrayContaining([
        { attributes: { 'taskguard.kind': 'agent' }, value: 0 },
        { attributes: { 'taskguard.kind': 'cloud' }, value: 0 },
      ]),
    );
    expect(sumPoints(found.get('taskguard.tasks.settled'))).toEqual(
      expect.arrayContaining([
        { attributes: { 'taskguard.kind': 'agent', 'taskguard.outcome': 'timed_out' }, value: 1 },
        { attributes: { 'taskguard.kind': 'agent', 'taskguard.outcome': 'completed' }, value: 1 },
        { attributes: { 'taskguard.kind': 'cloud', 'taskguard.outcome': 'timed_out' }, value: 1 },
      ]),
    );
    expect(sumPoints(found.get('taskguard.concurrency.limit'))).toEqual([{ attributes: {}, value: 4 }]);

    const requests = sumPoints(found.get('taskguard.api.requests'));
    const request = (kind: string, operation: string, status: number, errorType?: string): Attributes => ({
      'taskguard.kind': kind,
      'taskguard.operation': operation,
      'http.response.status_code': status,
      ...(errorType && { 'error.type': errorType }),
    });
    const expected = [
      request('agent', 'create', 200),
      request('agent', 'status', 200),
      request('agent', 'cancel', 200),
      request('agent', 'rename', 200),
      request('agent', 'list', 200),
      request('agent', 'get', 200),
      request('agent', 'logs', 200),
      request('agent', 'stream', 200),
      request('agent', 'status', 404, 'NotFoundError'),
      request('cloud', 'status', 200),
      request('cloud', 'cancel', 200),
    ];
    for (const attributes of expected) expect(requests.map((p) => p.attributes)).toContainEqual(attributes);
    expect(requests.find((p) => p.attributes['taskguard.operation'] === 'cancel' && p.attributes['taskguard.kind'] === 'agent')?.value).toBe(1);

    // The duration histogram has the same attribute sets, one recording per request.
    const durations = histogramPoints(found.get('taskguard.api.request.duration'));
    expect(durations.map((p) => p.attributes).sort(byJson)).toEqual(requests.map((p) => p.attributes).sort(byJson));
    for (const point of durations) {
      expect(point.count).toBe(requests.find((p) => byJson(p.attributes, point.attributes) === 0)?.value);
      expect(point.sum).toBeGreaterThanOrEqual(0);
    }

    // Cancel lateness: one per deadline cancel, in seconds, a fraction of a second past the 300 ms deadline.
    const lateness = histogramPoints(found.get('taskguard.cancel.lateness'));
    expect(lateness.map((p) => [p.attributes, p.count])).toEqual(
      expect.arrayContaining([
        [{ 'taskguard.kind': 'agent' }, 1],
        [{ 'taskguard.kind': 'cloud' }, 1],
      ]),
    );
    for (const point of lateness) {
      expect(point.sum).toBeGreaterThanOrEqual(0);
      expect(point.sum).toBeLessThan(5);
    }

    // Spans: one CLIENT span per request attempt, one per tracked task with its story as events.
    const spans = sdk.spans.getFinishedSpans();
    const taskSpans = spans.filter((span) => span.name === 'taskguard.task');
    expect(taskSpans).toHaveLength(3);
    const slowSpan = taskSpans.find((span) => span.attributes['taskguard.task.id'] === slow.created.runId)!;
    expect(slowSpan.kind).toBe(SpanKind.INTERNAL);
    expect(slowSpan.attributes).toMatchObject({ 'taskguard.kind': 'agent', 'taskguard.outcome': 'timed_out', 'taskguard.status': 'cancelled' });
    const events = slowSpan.events.map((event) => event.name);
    expect(events).toContain('status');
    expect(events.indexOf('timeout')).toBeGreaterThan(-1);
    expect(events.indexOf('cancel')).toBeGreaterThan(events.indexOf('timeout'));
    expect(slowSpan.events.find((event) => event.name === 'cancel')?.attributes).toEqual({ 'taskguard.cancel.reason': 'deadline' });
    expect(slowSpan.events.filter((event) => event.name === 'status').at(-1)?.attributes).toEqual({ 'taskguard.status': 'cancelled', 'taskguard.state': 'cancelled' });
    const cloudSpan = taskSpans.find((span) => span.attributes['taskguard.task.id'] === task.id)!;
    expect(cloudSpan.attributes).toMatchObject({ 'taskguard.kind': 'cloud', 'taskguard.outcome': 'timed_out', 'taskguard.status': 'stopped' });

    const requestSpans = spans.filter((span) => span.name !== 'taskguard.task');
    expect(new Set(requestSpans.map((span) => span.name))).toEqual(
      new Set(['taskguard.create', 'taskguard.status', 'taskguard.cancel', 'taskguard.rename', 'taskguard.list', 'taskguard.get', 'taskguard.logs', 'taskguard.stream']),
    );
    for (const span of requestSpans) expect(span.kind).toBe(SpanKind.CLIENT);
    const failed = requestSpans.find((span) => span.attributes['http.response.status_code'] === 404)!;
    expect(failed.attributes).toEqual(request('agent', 'status', 404, 'NotFoundError'));
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'NotFoundError' });
    // The polls and the cancel of a tracked task are children of its span.
    const children = requestSpans.filter((span) => span.parentSpanContext?.spanId === slowSpan.spanContext().spanId).map((span) => span.name);
    expect(children).toContain('taskguard.status');
    expect(children).toContain('taskguard.cancel');

    const strings = exportedStrings(spans, resourceMetrics);
    for (const secret of [sim.agentKey, sim.cloudKey, PROMPT, 'merger']) {
      expect(strings.filter((s) => s.toLowerCase().includes(secret.toLowerCase()))).toEqual([]);
    }
  });

  it('counts every attempt of a retried request, with the status of each answer or the error of a failed connection', async () => {
    sdk = registerSdk();
    let calls = 0;
    const answers = [503, 200];
    const fetch: typeof globalThis.fetch = async () => {
      const status = answers[calls++];
      if (status === undefined) throw new TypeError('fetch failed');
      const body = status === 200 ? { runId: 'run-1', status: 'in_progress', progress: null, error: null, startedAt: null, completedAt: null } : { error: 'down' };
      return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    };
    const agent = new AgentClient({ apiKey: 'sk-telemetry-secret', baseUrl: 'http://127.0.0.1:9', fetch, retryBackoff: { initialMs: 1, jitter: 0 } });
    await agent.getStatus('run-1');
    await expect(agent.getStatus('run-1', { retries: 0 })).rejects.toMatchObject({ name: 'ConnectionError' });

    const requests = sumPoints(taskguardMetrics(await sdk.collect()).get('taskguard.api.requests'));
    expect(requests.sort((a, b) => byJson(a.attributes, b.attributes))).toEqual(
      [
        { attributes: { 'taskguard.kind': 'agent', 'taskguard.operation': 'status', 'http.response.status_code': 200 }, value: 1 },
        { attributes: { 'taskguard.kind': 'agent', 'taskguard.operation': 'status', 'http.response.status_code': 503, 'error.type': 'InternalServerError' }, value: 1 },
        { attributes: { 'taskguard.kind': 'agent', 'taskguard.operation': 'status', 'error.type': 'ConnectionError' }, value: 1 },
      ].sort((a, b) => byJson(a.attributes, b.attributes)),
    );
    const spans = sdk.spans.getFinishedSpans();
    expect(spans.map((span) => [span.name, span.status.code])).toEqual([
      ['taskguard.status', SpanStatusCode.ERROR],
      ['taskguard.status', SpanStatusCode.UNSET],
      ['taskguard.status', SpanStatusCode.ERROR],
    ]);
    expect(exportedStrings(spans, await sdk.collect()).filter((s) => s.includes('sk-telemetry-secret'))).toEqual([]);
  });

  it('takes the meter when a client is made: one made before the SDK is registered stays a no-op, one made after reports', async () => {
    const before = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url });
    const beforeManager = new TaskManager({ agent: before, poll: { initialMs: 20, maxMs: 100 } });
    managers.push(beforeManager);
    // Without an SDK everything works and nothing is reported anywhere.
    const { runId } = sim.createAgentRun({ durationMs: 50 });
    expect((await beforeManager.track({ kind: 'agent', id: runId }).done).outcome).toBe('completed');

    sdk = registerSdk();
    const after = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url });
    await before.listTasks();
    await after.listTasks();
    const found = taskguardMetrics(await sdk.collect());
    expect(sumPoints(found.get('taskguard.api.requests'))).toEqual([
      { attributes: { 'taskguard.kind': 'agent', 'taskguard.operation': 'list', 'http.response.status_code': 200 }, value: 1 },
    ]);
    // Nor does the manager made before report its tasks or its concurrency.
    expect(found.has('taskguard.tasks.settled')).toBe(false);
    expect(found.has('taskguard.concurrency.limit')).toBe(false);
  });

  it('stops reporting the concurrency limit of a manager once it is closed', async () => {
    // Delta: a collection shows only what was observed since the last one (cumulative repeats the last value).
    sdk = registerSdk(AggregationTemporality.DELTA);
    const manager = new TaskManager({ agent: new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url }), concurrency: 3 });
    expect(sumPoints(taskguardMetrics(await sdk.collect()).get('taskguard.concurrency.limit'))).toEqual([{ attributes: {}, value: 3 }]);
    await manager.close();
    expect(taskguardMetrics(await sdk.collect()).get('taskguard.concurrency.limit')?.dataPoints ?? []).toEqual([]);
  });
});

function byJson(a: Attributes, b: Attributes): number {
  const [x, y] = [JSON.stringify(Object.entries(a).sort()), JSON.stringify(Object.entries(b).sort())];
  return x < y ? -1 : x > y ? 1 : 0;
}
