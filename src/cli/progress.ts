/**
 * Progress of a long run on stderr: a bar when stderr is a terminal (done/total, items/s, ETA,
 * rejects so far), otherwise a plain line every few seconds (logs stay readable), or nothing.
 */
import cliProgress from 'cli-progress';

export interface ProgressState {
  readonly done: number;
  readonly total?: number;
  readonly rejected: number;
  readonly elapsedSeconds: number;
}

export interface ProgressReporter {
  update(state: ProgressState): void;
  stop(): void;
}

/** Seconds between plain progress lines. */
const LINE_INTERVAL_S = 5;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function rate(state: ProgressState): number {
  return state.elapsedSeconds > 0 ? state.done / state.elapsedSeconds : 0;
}

function eta(state: ProgressState): string {
  const r = rate(state);
  return state.total !== undefined && r > 0 ? formatDuration((state.total - state.done) / r) : '?';
}

export function createProgress(mode: 'auto' | 'quiet', label: string, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (mode === 'quiet') return { update: () => undefined, stop: () => undefined };
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} {bar} {value}/{total} | {rate} items/s | ETA {etaText} | {rejected} rejected`, stream, hideCursor: true, clearOnComplete: false, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(state) {
        const payload = { rate: rate(state).toFixed(1), etaText: eta(state), rejected: state.rejected };
        if (!started) {
          bar.start(state.total ?? 0, state.done, payload);
          started = true;
        } else {
          if (state.total !== undefined) bar.setTotal(state.total);
          bar.update(state.done, payload);
        }
      },
      stop: () => started && bar.stop(),
    };
  }
  let last = -Infinity;
  return {
    update(state) {
      if (state.elapsedSeconds - last < LINE_INTERVAL_S) return;
      last = state.elapsedSeconds;
      const of = state.total !== undefined ? `/${state.total} (${state.total > 0 ? Math.floor((100 * state.done) / state.total) : 100} %)` : '';
      stream.write(`${label}: ${state.done}${of}, ${rate(state).toFixed(1)} items/s, ETA ${eta(state)}, ${state.rejected} rejected\n`);
    },
    stop: () => undefined,
  };
}
