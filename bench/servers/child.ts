// What every benchmark server child shares: it tells the parent it is ready (over the IPC channel,
// or on stdout when started by hand), answers the parent's requests, and exits by itself when told
// to stop, when interrupted, or when the parent goes away (its IPC channel closes), so no server
// outlives a benchmark. Exiting through process.exit lets `--cpu-prof` write its profile.

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

export type ParentMessage =
  | { type: 'usage' | 'profile-start'; id: number }
  | { type: 'mint'; id: number; ageSeconds?: number }
  | { type: 'profile-stop'; id: number; file: string };

type Handler = (message: ParentMessage) => Promise<Record<string, unknown>>;

let profiler: Session | undefined;

/**
 * What every child answers: the CPU time it has used so far (µs), for CPU per request; and a CPU
 * profile of exactly the measured window (the V8 profiler through node:inspector, the same data
 * as --cpu-prof without the start-up and the idle time around it), written as a .cpuprofile file.
 */
const common: Handler = async (message) => {
  switch (message.type) {
    case 'usage': {
      const { user, system } = process.cpuUsage();
      return { user, system };
    }
    case 'profile-start':
      profiler ??= new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 250 });
      await profiler.post('Profiler.start');
      return {};
    case 'profile-stop': {
      if (!profiler) throw new Error('no profile was started');
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      writeFileSync(message.file, JSON.stringify(profile));
      return { file: message.file };
    }
    default:
      throw new Error(`unknown message ${JSON.stringify(message)}`);
  }
};

const COMMON = new Set<ParentMessage['type']>(['usage', 'profile-start', 'profile-stop']);

/**
 * Announces the listening port (and anything else) to the parent, then answers the parent's
 * requests (`usage`, `profile-*`, and whatever `handle` knows) tagged with the request's id.
 */
export function announce(info: { port: number } & Record<string, unknown>, handle: Handler = common): void {
  if (!process.send) {
    console.log(JSON.stringify({ type: 'ready', ...info }));
    return;
  }
  process.on('message', (message: ParentMessage) => {
    (COMMON.has(message.type) ? common : handle)(message).then(
      (answer) => process.send?.({ type: 'answer', id: message.id, ...answer }),
      (error: unknown) => process.send?.({ type: 'answer', id: message.id, error: String(error) }),
    );
  });
  process.send({ type: 'ready', ...info });
}

/** Runs `stop` (bounded to a few seconds) then exits, on SIGTERM, SIGINT or the parent's disconnect. */
export function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const end = () => {
    if (stopping) return;
    stopping = true;
    const limit = new Promise<void>((resolve) => setTimeout(resolve, 3000).unref());
    Promise.race([stop().catch(() => undefined), limit]).finally(() => process.exit(0));
  };
  process.on('SIGTERM', end);
  process.on('SIGINT', end);
  process.on('disconnect', end);
}
