import { parseOrThrow } from '@ebbrt/interfaces';
import { describe, expect, it } from 'vitest';
import { addressingOf, lwipOptionsSchema } from '../src/options.js';

/** The first issue's field and message, as the runtime's install step reports them. */
function firstIssue(options: Record<string, unknown>): { path: string; message: string } | undefined {
  const r = lwipOptionsSchema.safeParse(options);
  if (r.success) return undefined;
  const i = r.error.issues[0]!;
  return { path: i.path.join('.'), message: i.message };
}

describe('lwIP options: addressing is checked by the schema, naming the field', () => {
  it.each([
    [{ address: '10.0.0.300/24' }, 'address', /not a dotted-quad.*out-of-range/],
    [{ address: '10.0.0.2/33' }, 'address', /prefix length \/33 is not in 0\.\.32/],
    [{ address: '10.0.0.2' }, 'address', /needs a prefix length .* or a netmask/],
    [{ address: '10.0.0.2', netmask: '255.0.255.0' }, 'netmask', /not a contiguous netmask/],
    [{ address: '10.0.0.2/24', netmask: '255.255.0.0' }, 'netmask', /disagrees with the prefix length/],
    [{ address: '10.0.0.2/24', netmask: '255.255.255.256' }, 'netmask', /not a dotted-quad/],
    [{ address: '10.0.0.2/24', gateway: '10.0.0' }, 'gateway', /not a dotted-quad.*not-four-parts/],
    [{ address: '10.0.0.2/24', gateway: '10.0.1.1' }, 'gateway', /outside 10\.0\.0\.0\/24: the next hop must be on the link/],
    [{ address: '10.0.0.255/24' }, 'address', /broadcast address of its subnet/],
    [{ address: '255.255.255.255/24' }, 'address', /not a unicast host address/],
    [{ address: '224.0.0.5/24' }, 'address', /not a unicast host address/],
    [{ address: '0.0.0.0/8' }, 'address', /not a unicast host address/],
    [{ address: '127.0.0.2/8' }, 'address', /not a unicast host address/],
  ])('%j → %s: %s', (options, path, message) => {
    const issue = firstIssue(options);
    expect(issue?.path).toBe(path);
    expect(issue?.message).toMatch(message);
  });

  it('a receive buffer must hold a whole frame of the MTU (jumbo frames need a bigger rxBufferSize)', () => {
    expect(firstIssue({ address: '10.0.0.2/24', mtu: 9000 })).toEqual({ path: 'rxBufferSize', message: expect.stringMatching(/2048 cannot hold a frame of mtu 9000: needs at least 9026/) });
    expect(firstIssue({ address: '10.0.0.2/24', mtu: 9000, rxBufferSize: 9025 })?.path).toBe('rxBufferSize');
    expect(firstIssue({ address: '10.0.0.2/24', mtu: 9000, rxBufferSize: 9026 })).toBeUndefined();
    expect(firstIssue({ address: '10.0.0.2/24', mtu: 1500 })).toBeUndefined();
  });

  it('the runtime-style error carries the config path of the field', () => {
    expect(() => parseOrThrow(lwipOptionsSchema, { address: '10.0.0.2/24', netmask: '255.255.0.0' }, 'config.backend.ebbs.NetworkManager.options')).toThrow(
      /config\.backend\.ebbs\.NetworkManager\.options\.netmask/,
    );
  });

  it('accepts good addressing, and addressingOf turns it into numbers without checks of its own', () => {
    const a = lwipOptionsSchema.parse({ address: '10.0.0.2/24', gateway: '10.0.0.1' });
    expect(addressingOf(a)).toEqual({ address: 0x0a000002, netmask: 0xffffff00, gateway: 0x0a000001 });
    const b = lwipOptionsSchema.parse({ address: '192.168.1.7', netmask: '255.255.0.0' });
    expect(addressingOf(b)).toEqual({ address: 0xc0a80107, netmask: 0xffff0000, gateway: undefined });
    // /31 and /32 have no broadcast address to refuse (RFC 3021).
    expect(lwipOptionsSchema.safeParse({ address: '10.0.0.1/31' }).success).toBe(true);
    expect(lwipOptionsSchema.safeParse({ address: '10.0.0.255/32' }).success).toBe(true);
    // DHCP ignores the static fields.
    expect(addressingOf(lwipOptionsSchema.parse({ address: 'dhcp', gateway: '10.9.9.9' }))).toEqual({ address: 0, netmask: 0, gateway: undefined });
  });

  it('options that bypassed the schema still fail with the field named', () => {
    expect(() => addressingOf({ address: '10.0.0.2/24', netmask: '255.0.0.0', gateway: undefined })).toThrow(/netmask: 255\.0\.0\.0 disagrees/);
  });
});
