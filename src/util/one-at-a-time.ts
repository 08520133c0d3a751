/**
 * A queue that runs the tasks given to it one after another, in the order given, whatever each
 * one's outcome: each task starts when the one before it has settled.
 */
export class OneAtATime {
  private last: Promise<unknown> = Promise.resolve();
  private waitingOrRunning = 0;

  /** Tasks queued or running. */
  get size(): number {
    return this.waitingOrRunning;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    this.waitingOrRunning++;
    const result = this.last.then(task).finally(() => this.waitingOrRunning--);
    this.last = result.catch(() => undefined);
    return result;
  }
}
