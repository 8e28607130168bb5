import { describe, expect, it } from 'vitest';
import { serverStarter } from '../src/servers.js';

describe('serverStarter', () => {
  it('keeps what started, and turns a failed start into a note naming it (first line only)', async () => {
    const started: { name: string }[] = [];
    const notes: string[] = [];
    const start = serverStarter(started, notes);
    const a = await start('server a', async () => ({ name: 'a' }));
    const b = await start('server b', async () => {
      throw new Error('spawn memcached ENOENT\n  at stderr line 2');
    });
    const c = await start('server c', () => Promise.reject('refused'));
    expect(a).toEqual({ name: 'a' });
    expect(b).toBeUndefined();
    expect(c).toBeUndefined();
    expect(started).toEqual([{ name: 'a' }]);
    expect(notes).toEqual(['server b did not start: spawn memcached ENOENT', 'server c did not start: refused']);
  });
});
