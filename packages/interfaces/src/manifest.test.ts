import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { missingMembers } from './ebbs/interface-kinds.js';
import { PackageResolutionError } from './errors.js';
import { checkManifestFits, defineEbbManifest, validateManifest, type EbbManifest } from './manifest.js';

const PKG = '@acme/timer';

const good = {
  name: PKG,
  implements: 'Timer',
  targets: ['native', 'hosted'],
  options: z.object({ hz: z.number() }),
  create: () => ({ handleFault: () => ({}) }),
};

/** Validates `exported` and returns the PackageResolutionError it must raise. */
function rejection(exported: unknown): PackageResolutionError {
  try {
    validateManifest(PKG, exported);
  } catch (e) {
    expect(e).toBeInstanceOf(PackageResolutionError);
    return e as PackageResolutionError;
  }
  throw new Error('manifest was accepted');
}

describe('validateManifest', () => {
  it('accepts a system interface and a user interface', () => {
    expect(validateManifest(PKG, good).implements).toBe('Timer');
    const user = defineEbbManifest({ ...good, implements: 'user:counter' } as EbbManifest);
    expect(validateManifest(PKG, user).implements).toBe('user:counter');
  });

  it('keeps the create function and options schema by identity', () => {
    const m = validateManifest(PKG, good);
    expect(m.create).toBe(good.create);
    expect(m.options).toBe(good.options);
  });

  it('a missing manifest names the package and `manifest`', () => {
    const err = rejection(undefined);
    expect(err.packageName).toBe(PKG);
    expect(err.message).toMatch(/"@acme\/timer".*`manifest`/);
  });

  it.each([
    ['implements', { implements: 'Clock' }],
    ['implements', { implements: 'user:' }],
    ['implements', { implements: 'user:has space' }],
    ['targets', { targets: [] }],
    ['targets', { targets: ['cloud'] }],
    ['create', { create: 'not a function' }],
    ['create', { create: undefined }],
    ['name', { name: '' }],
    ['options', { options: { parse: 1 } }],
  ])('a bad %s names the package and manifest.%s', (field, patch) => {
    const err = rejection({ ...good, ...patch });
    expect(err.packageName).toBe(PKG);
    expect(err.message).toContain(`"${PKG}"`);
    expect(err.message).toContain(`manifest.${field}`);
  });

  it('explains each field problem', () => {
    expect(rejection({ ...good, targets: [] }).message).toMatch(/at least one target/);
    expect(rejection({ ...good, create: 1 }).message).toMatch(/must be a function/);
  });
});

describe('checkManifestFits', () => {
  const manifest = validateManifest(PKG, { ...good, targets: ['hosted'] });

  it('accepts a matching kind and target', () => {
    expect(() => checkManifestFits(manifest, PKG, 'Timer', 'hosted')).not.toThrow();
  });

  it('rejects a package configured as X that implements Y', () => {
    expect(() => checkManifestFits(manifest, PKG, 'EventManager', 'hosted')).toThrow(PackageResolutionError);
    expect(() => checkManifestFits(manifest, PKG, 'EventManager', 'hosted')).toThrow(
      /"@acme\/timer".*configured as EventManager.*implements Timer/,
    );
  });

  it('rejects a target the package does not support', () => {
    expect(() => checkManifestFits(manifest, PKG, 'Timer', 'native')).toThrow(
      /"@acme\/timer".*does not support target "native".*supports hosted/,
    );
  });
});

describe('missingMembers', () => {
  it('names the methods a rep lacks', () => {
    const rep = { start() {}, now() {} };
    expect(missingMembers('Timer', rep)).toEqual(['stop', 'sleep']);
  });

  it('is empty for a complete rep, including inherited methods', () => {
    class TimerRep {
      start() {}
      stop() {}
      sleep() {}
      now() {
        return 0;
      }
    }
    expect(missingMembers('Timer', new TimerRep())).toEqual([]);
  });

  it('flags a non-object rep', () => {
    expect(missingMembers('Messenger', undefined)).toEqual(['(rep is not an object)']);
    expect(missingMembers('Messenger', 7)).toEqual(['(rep is not an object)']);
  });
});
