// Stopping a benchmark's child process: SIGTERM (the child closes its servers and exits), then
// SIGKILL after a grace period, so no child outlives a benchmark.
import type { ChildProcess } from 'node:child_process';

export function stopChild(proc: ChildProcess, graceMs: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    proc.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}
