import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RootMembers, SystemInterfaces, isRootOf, missingRootMembers } from './index.js';

describe('root contracts', () => {
  it('a root with every required member passes; each missing one is named', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SystemInterfaces), fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), (kind, keep) => {
        const members = RootMembers[kind] as readonly string[];
        const root: Record<string, unknown> = {};
        const dropped: string[] = [];
        members.forEach((m, i) => (keep[i % keep.length] ? (root[m] = () => undefined) : dropped.push(m)));
        expect(missingRootMembers(kind, root)).toEqual(dropped);
        expect(isRootOf(kind, root)).toBe(dropped.length === 0);
      }),
    );
  });

  it('members found on the prototype (getters, methods) count', () => {
    class Directory {
      get port(): number {
        return 1;
      }
      readonly listening = Promise.resolve();
      handleFault(): unknown {
        return {};
      }
      setPeer(): void {}
      forgetPeer(): void {}
    }
    expect(missingRootMembers('Messenger', new Directory())).toEqual([]);
    expect(missingRootMembers('Messenger', { handleFault() {} })).toEqual(['port', 'listening', 'setPeer', 'forgetPeer']);
    expect(missingRootMembers('Timer', null)).toEqual(['(root is not an object)']);
  });
});
