/**
 * `taskguard simulate`: the simulator of both APIs as a server on 127.0.0.1, with fault knobs as flags,
 * until SIGINT/SIGTERM. It accepts the keys in `BLACKBOX_API_KEY` / `BLACKBOX_CLOUD_API_KEY` when they
 * are set (and names the variable instead of printing the key), else keys of its own, which it prints.
 * @module
 */
import { InvalidArgumentError, type Command } from 'commander';
import { createSimulator } from '../simulator/index.js';
import type { SimulatorFaults } from '../simulator/options.js';
import { durationArg, examples, intArg, jsonOption, rateArg } from './common.js';
import type { CliContext } from './context.js';
import { formatDuration } from './durations.js';
import { AGENT_KEY_ENV, BASE_URL_ENV, CLOUD_KEY_ENV, envValue } from './env.js';

export interface SimulateOptions {
  readonly json?: boolean | undefined;
  readonly port: number;
  readonly latency?: number | undefined;
  readonly errorRate?: number | undefined;
  readonly htmlErrorRate?: number | undefined;
  readonly rate429?: number | undefined;
  readonly retryAfter?: number | undefined;
  readonly maxConcurrent?: number | undefined;
  readonly resetRate?: number | undefined;
  readonly hangRate?: number | undefined;
  readonly seed?: number | undefined;
}

export function registerSimulate(program: Command, context: CliContext): void {
  jsonOption(program.command('simulate'))
    .description('Run the simulator of both BLACKBOX APIs on 127.0.0.1 until Ctrl-C (SIGINT/SIGTERM)')
    .option('--port <port>', 'TCP port; 0 picks a free one', intArg(0, 65_535), 0)
    .option('--latency <duration>', 'delay before each API answer, e.g. 20ms', durationArg(0))
    .option('--error-rate <p>', 'share of requests answered 500, 0–1', rateArg)
    .option('--html-error-rate <p>', 'share of requests answered 502 with an HTML page, 0–1', rateArg)
    .option('--rate-429 <p>', 'share of requests answered 429 with Retry-After, 0–1', rateArg)
    .option('--retry-after <duration>', 'the Retry-After of every 429, whole seconds (e.g. 1s, 2)', wholeSeconds)
    .option('--max-concurrent <n>', 'most requests in flight; more are answered 429 at once', intArg(1))
    .option('--reset-rate <p>', 'share of requests whose connection is dropped, 0–1', rateArg)
    .option('--hang-rate <p>', 'share of requests never answered, 0–1', rateArg)
    .option('--seed <n>', 'seed of every random decision, to replay a run', intArg(0, 0xffff_ffff))
    .addHelpText(
      'after',
      examples([
        'taskguard simulate --port 4010',
        'BLACKBOX_API_KEY=sk-test taskguard simulate --latency 20ms --error-rate 0.1 --rate-429 0.05 --retry-after 1s',
      ]) + `\nWith ${AGENT_KEY_ENV} / ${CLOUD_KEY_ENV} set, it accepts those keys, so the other commands work against it unchanged.\n`,
    )
    .action(async (options: SimulateOptions) => {
      context.exitCode = await simulate(context, options);
    });
}

function wholeSeconds(value: string): number {
  const ms = durationArg(0)(value);
  if (ms % 1_000 !== 0) throw new InvalidArgumentError('It must be whole seconds (Retry-After counts seconds), such as 1s or 2.');
  return ms / 1_000;
}

export async function simulate(context: CliContext, options: SimulateOptions): Promise<number> {
  const agentKey = envValue(context.env, AGENT_KEY_ENV);
  const cloudKey = envValue(context.env, CLOUD_KEY_ENV);
  const faults = faultsOf(options);
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      for (const name of ['SIGINT', 'SIGTERM'] as const) context.signals.off(name, onSignal);
      resolve(signal);
    };
    for (const name of ['SIGINT', 'SIGTERM'] as const) context.signals.on(name, onSignal);
  });
  // Listening before the server starts: a Ctrl-C during startup still ends in a clean close.
  const sim = await createSimulator({ port: options.port, seed: options.seed, agentKey, cloudKey, faults });
  const faultList = Object.entries(sim.faults).map(([name, value]) => [name, Number.isFinite(value) ? value : null] as const);
  if (context.json) {
    context.printJson({
      url: sim.url,
      port: sim.port,
      seed: sim.seed,
      agent: { baseUrl: `${sim.url}/api/v1/`, keyEnv: AGENT_KEY_ENV, ...(agentKey === undefined ? { key: sim.agentKey, keyFromEnv: false } : { keyFromEnv: true }) },
      cloud: { baseUrl: `${sim.url}/api/`, keyEnv: CLOUD_KEY_ENV, ...(cloudKey === undefined ? { key: sim.cloudKey, keyFromEnv: false } : { keyFromEnv: true }) },
      faults: Object.fromEntries(faultList),
    });
  } else {
    const colors = context.colors('out');
    const keyText = (fromEnv: boolean, env: string, key: string) => (fromEnv ? `the key in ${env}` : `${colors.bold(key)} (generated)`);
    context.print(`taskguard simulator listening on ${colors.bold(sim.url)} (seed ${sim.seed})`);
    context.print(`  Agent API  ${sim.url}/api/v1/  accepts ${keyText(agentKey !== undefined, AGENT_KEY_ENV, sim.agentKey)}`);
    context.print(`  Cloud API  ${sim.url}/api/     accepts ${keyText(cloudKey !== undefined, CLOUD_KEY_ENV, sim.cloudKey)}`);
    context.print(`  faults     ${describeFaults(options)}`);
    context.print('');
    context.print('Point the other commands at it (in another shell):');
    context.print(`  export ${BASE_URL_ENV}=${sim.url}`);
    if (agentKey === undefined) context.print(`  export ${AGENT_KEY_ENV}=${sim.agentKey}`);
    if (cloudKey === undefined) context.print(`  export ${CLOUD_KEY_ENV}=${sim.cloudKey}`);
    context.print('Press Ctrl-C to stop.');
  }
  const signal = await stopped;
  await sim.close();
  if (!context.json) context.print(`${signal}: simulator stopped after ${sim.ledger.requests} requests`);
  return 0;
}

function faultsOf(options: SimulateOptions): SimulatorFaults {
  const faults: Record<string, number> = {};
  const set = (name: keyof SimulatorFaults, value: number | undefined) => {
    if (value !== undefined) faults[name] = value;
  };
  set('latencyMs', options.latency);
  set('errorRate', options.errorRate);
  set('htmlErrorRate', options.htmlErrorRate);
  set('rate429', options.rate429);
  set('retryAfterSeconds', options.retryAfter);
  set('maxConcurrent', options.maxConcurrent);
  set('resetRate', options.resetRate);
  set('hangRate', options.hangRate);
  return faults;
}

function describeFaults(options: SimulateOptions): string {
  const parts = [
    options.latency !== undefined && `latency ${formatDuration(options.latency)}`,
    options.errorRate !== undefined && `500s ${options.errorRate}`,
    options.htmlErrorRate !== undefined && `HTML 502s ${options.htmlErrorRate}`,
    options.rate429 !== undefined && `429s ${options.rate429}`,
    options.retryAfter !== undefined && `Retry-After ${options.retryAfter}s`,
    options.maxConcurrent !== undefined && `max ${options.maxConcurrent} in flight`,
    options.resetRate !== undefined && `resets ${options.resetRate}`,
    options.hangRate !== undefined && `hangs ${options.hangRate}`,
  ].filter((part): part is string => typeof part === 'string');
  return parts.length === 0 ? 'none' : parts.join(' · ');
}
