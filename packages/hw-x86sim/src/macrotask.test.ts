import { describe, expect, it } from 'vitest';
import { channelQueue } from './macrotask.js';

describe('channelQueue (the browser macrotask path)', () => {
  it('runs tasks FIFO, each in its own macrotask with its microtasks drained before the next', async () => {
    // Looked up by name, as macrotask.ts does: Node's typings give MessagePort another shape.
    const name: string = 'MessageChannel';
    const queue = channelQueue(Reflect.get(globalThis, name));
    const log: string[] = [];
    await new Promise<void>((done) => {
      for (let i = 0; i < 5; i++) {
        queue(() => {
          log.push(`task ${i}`);
          void Promise.resolve().then(() => log.push(`micro ${i}`));
          if (i === 4) setTimeout(done, 0);
        });
      }
    });
    expect(log).toEqual(['task 0', 'micro 0', 'task 1', 'micro 1', 'task 2', 'micro 2', 'task 3', 'micro 3', 'task 4', 'micro 4']);
  });
});
