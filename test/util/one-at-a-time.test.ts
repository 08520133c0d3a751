import { describe, expect, it } from 'vitest';
import { OneAtATime } from '../../src/util/one-at-a-time.js';

describe('OneAtATime', () => {
  it('runs tasks one after another in the order given, past a failure, and counts them', async () => {
    const queue = new OneAtATime();
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const task = (name: string, fail = false) => async () => {
      running++;
      most = Math.max(most, running);
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 5));
      log.push(`end ${name}`);
      running--;
      if (fail) throw new Error(`${name} failed`);
      return name;
    };
    const results = Promise.allSettled([queue.run(task('a')), queue.run(task('b', true)), queue.run(task('c'))]);
    expect(queue.size).toBe(3);
    const settled = await results;
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual(['a', 'b failed', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(most).toBe(1);
    expect(queue.size).toBe(0);
  });
});
