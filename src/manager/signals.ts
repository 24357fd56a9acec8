import { constants } from 'node:os';

/** A manager as the signal coordinator sees it. */
export interface SignalParticipant {
  readonly signals: readonly NodeJS.Signals[];
  readonly graceMs: number;
  readonly exit: boolean;
  shutdown(): Promise<unknown>;
  /** Ends the shutdown's grace at once: the second signal of a process that must not exit. */
  cutShort(): void;
}

const participants = new Set<SignalParticipant>();
const listeners = new Map<NodeJS.Signals, () => void>();
let firstSignalCode: number | undefined;
/** The managers the first signal shut down, while they do. */
let shuttingDown: readonly SignalParticipant[] = [];

/** Shutdown itself stops waiting at `graceMs`; the margin lets it write its report before the forced exit. */
const FORCE_MARGIN_MS = 250;

/** 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM. */
export function exitCodeFor(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Adds a manager to the process-wide signal handling and returns the function that takes it out.
 * One listener per signal serves every manager, so several managers in one process shut down together
 * and exit once, instead of racing each other to `process.exit`.
 */
export function registerForSignals(participant: SignalParticipant): () => void {
  participants.add(participant);
  syncListeners();
  return () => {
    participants.delete(participant);
    syncListeners();
  };
}

function syncListeners(): void {
  const wanted = new Set<NodeJS.Signals>();
  for (const participant of participants) for (const signal of participant.signals) wanted.add(signal);
  // While a signal shutdown runs, keep listening: a second signal must still force the exit.
  if (firstSignalCode !== undefined) for (const signal of listeners.keys()) wanted.add(signal);
  for (const [signal, listener] of listeners) {
    if (!wanted.has(signal)) {
      process.off(signal, listener);
      listeners.delete(signal);
    }
  }
  for (const signal of wanted) {
    if (listeners.has(signal)) continue;
    const listener = (): void => onSignal(signal);
    listeners.set(signal, listener);
    process.on(signal, listener);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (firstSignalCode !== undefined) {
    // `exit: false` means it, even now: the second signal ends the shutdowns at once instead.
    if (shuttingDown.some((p) => p.exit)) process.exit(firstSignalCode);
    for (const participant of shuttingDown) participant.cutShort();
    return;
  }
  const code = exitCodeFor(signal);
  firstSignalCode = code;
  const involved = [...participants].filter((p) => p.signals.includes(signal));
  shuttingDown = involved;
  const exit = involved.some((p) => p.exit);
  // The grace timer is armed before any shutdown work starts, so a shutdown that hangs cannot hold the exit.
  const graceMs = Math.max(0, ...involved.map((p) => p.graceMs));
  if (exit) setTimeout(() => process.exit(code), graceMs + FORCE_MARGIN_MS);
  void Promise.allSettled(involved.map((p) => p.shutdown())).then(() => {
    if (exit) process.exit(code);
    firstSignalCode = undefined;
    shuttingDown = [];
    syncListeners();
  });
}
