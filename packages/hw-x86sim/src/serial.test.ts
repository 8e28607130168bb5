import { describe, expect, it } from 'vitest';
import { SerialConsole } from './serial.js';

describe('SerialConsole', () => {
  it('keeps only the most recent lines, oldest first', () => {
    const s = new SerialConsole(3);
    for (let i = 0; i < 5; i++) s.write(`line ${i}\n`);
    s.write('tail');
    expect(s.lines()).toEqual(['line 2', 'line 3', 'line 4']);
    expect(s.pendingText).toBe('tail');
  });
});
