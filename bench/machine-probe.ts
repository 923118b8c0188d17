import { closeSync, openSync, writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/**
 * What a system call and a wake-up of another thread cost on this machine. Every request through
 * any Node proxy makes several of each (a read and a writev per socket, and each socket write
 * wakes the process reading it), so these two figures explain much of why the same code runs at
 * very different ratios on different machines. On the machine of 2026-11-30 a system call cost
 * 0.8 µs and a round trip to another thread 65-73 µs: there, wake-ups are what is dear.
 */
export interface MachineProbe {
  /** One 1-byte write(2) to /dev/null, in µs: the floor of a system call here. */
  readonly syscallUs: number;
  /** A message to a worker thread and its answer, in µs: two wake-ups across threads. */
  readonly threadRoundTripUs: number;
}

const SYSCALLS = 20_000;
const ROUND_TRIPS = 2_000;

function syscallCost(): number {
  const fd = openSync('/dev/null', 'w');
  const byte = Buffer.from('x');
  try {
    for (let i = 0; i < 1_000; i++) writeSync(fd, byte);
    const started = process.hrtime.bigint();
    for (let i = 0; i < SYSCALLS; i++) writeSync(fd, byte);
    return Number(process.hrtime.bigint() - started) / SYSCALLS / 1000;
  } finally {
    closeSync(fd);
  }
}

async function threadRoundTrip(): Promise<number> {
  const worker = new Worker(
    "require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m));",
    { eval: true },
  );
  try {
    const ping = () =>
      new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.postMessage(0);
      });
    for (let i = 0; i < 200; i++) await ping();
    const started = process.hrtime.bigint();
    for (let i = 0; i < ROUND_TRIPS; i++) await ping();
    return Number(process.hrtime.bigint() - started) / ROUND_TRIPS / 1000;
  } finally {
    await worker.terminate();
  }
}

export async function probeMachine(): Promise<MachineProbe> {
  return { syscallUs: syscallCost(), threadRoundTripUs: await threadRoundTrip() };
}
