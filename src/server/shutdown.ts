/**
 * Graceful shutdown: on SIGTERM or SIGINT the server stops accepting connections, lets the
 * requests in flight finish for at most `graceMs`, then closes whatever is left and releases the
 * model. A second signal cuts the wait short.
 */
import type { FastifyInstance } from 'fastify';

export interface ShutdownHandle {
  /** Settles when the server has shut down (after a signal, or `shutdown()`). */
  readonly done: Promise<void>;
  shutdown(reason: string): Promise<void>;
}

export function closeOnSignals(app: FastifyInstance, graceMs: number, release: () => Promise<void>, log: (event: Record<string, unknown>) => void): ShutdownHandle {
  let started: Promise<void> | undefined;
  let force: (() => void) | undefined;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));

  const shutdown = (reason: string): Promise<void> => {
    if (started) {
      force?.();
      return started;
    }
    log({ event: 'shutdown', reason, graceMs });
    started = (async () => {
      const closing = app.close();
      const expired = new Promise<'expired'>((resolve) => {
        const timer = setTimeout(() => resolve('expired'), graceMs);
        timer.unref();
        force = () => {
          clearTimeout(timer);
          resolve('expired');
        };
      });
      if ((await Promise.race([closing.then(() => 'closed' as const), expired])) === 'expired') {
        log({ event: 'shutdown-forced', reason: `requests still in flight after ${graceMs} ms` });
        app.server.closeAllConnections();
        await closing;
      }
      await release();
      log({ event: 'stopped' });
    })().finally(() => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      finish();
    });
    return started;
  };
  const onSignal = (signal: NodeJS.Signals): void => void shutdown(signal);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return { done, shutdown };
}
