import { z } from 'zod';
import { appFaultsSchema } from './offload-faults.js';
import { SystemInterfaces, type SystemInterfaceName } from './ebbs/interface-kinds.js';
import { parseOrThrow } from './validation.js';

const SIZE_UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/**
 * The one size grammar of EbbRT-TS (configs, Ebb options, app arguments): a whole number of
 * bytes, optionally followed by B, KiB, MiB or GiB ("64MiB", "4096"). Returns undefined for
 * anything else, so each caller words its own error (a config field, a command-line flag).
 */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+)\s*(B|KiB|MiB|GiB)?\s*$/.exec(text);
  if (m === null) return undefined;
  const bytes = Number(m[1]) * SIZE_UNITS[m[2] ?? 'B']!;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** What a size looks like, for error messages. */
export const BYTE_SIZE_HINT = 'use bytes or e.g. "64MiB"';

/** Parses "64MiB", "4096", 4096 into bytes. */
export const byteSizeSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const bytes = parseByteSize(v);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a size (${BYTE_SIZE_HINT})` });
    return z.NEVER;
  }
  return bytes;
}).pipe(
  z.number().int('must be a whole number of bytes').positive('must be positive').refine(
    (n) => n % 4096 === 0,
    'must be a multiple of 4096 (one page)',
  ),
);

/** An Ebb choice: a package name, or a package with options. */
export const ebbChoiceSchema = z.union([
  z.string().min(1),
  z.strictObject({ package: z.string().min(1), options: z.record(z.string(), z.unknown()).optional() }),
]);
export type EbbChoice = z.input<typeof ebbChoiceSchema>;

const ebbsSchema = z
  .record(z.string(), ebbChoiceSchema)
  .superRefine((ebbs, ctx) => {
    for (const kind of Object.keys(ebbs)) {
      if (!(SystemInterfaces as readonly string[]).includes(kind)) {
        ctx.addIssue({
          code: 'custom',
          path: [kind],
          message: `unknown Ebb kind "${kind}" (known: ${SystemInterfaces.join(', ')})`,
        });
      }
    }
  })
  .transform((ebbs) => ebbs as Partial<Record<SystemInterfaceName, EbbChoice>>);

/** A NodePlatform choice: a package (or shorthand) name, or a package with options. */
export const platformChoiceSchema = z.union([
  z.string().min(1),
  z.strictObject({ package: z.string().min(1), options: z.record(z.string(), z.unknown()).optional() }),
]);
export type PlatformChoice = z.input<typeof platformChoiceSchema>;

/**
 * Core faults of every back-end machine (hw-x86sim's `CoreFaults`), drawn from the seed per
 * machine: `interruptDelay` delivers a raised vector 1..maxNs ns late with `probability`;
 * `clock` gives each machine a clock (its Timer's) skewed by 0..maxSkewNs ahead and drifting by
 * up to ±maxDriftPpm.
 */
export const coreFaultsSchema = z.strictObject({
  interruptDelay: z
    .strictObject({
      probability: z.number().min(0, 'must be in 0..1').max(1, 'must be in 0..1'),
      maxNs: z.number().int('must be a whole number of ns').min(1, 'must be at least 1'),
    })
    .optional(),
  /** After each slice a core stalls 1..maxNs ns (an SMI-like pause) with `probability`. */
  stall: z
    .strictObject({
      probability: z.number().min(0, 'must be in 0..1').max(1, 'must be in 0..1'),
      maxNs: z.number().int('must be a whole number of ns').min(1, 'must be at least 1'),
    })
    .optional(),
  clock: z
    .strictObject({
      maxSkewNs: z.number().int('must be a whole number of ns').min(0, 'must not be negative').max(2 ** 32 - 1, 'must be below 2^32'),
      maxDriftPpm: z.number().min(0, 'must not be negative').max(100_000, 'must be at most 100000 (10%)'),
    })
    .optional(),
});
export type CoreFaultsConfig = z.output<typeof coreFaultsSchema>;

/** A seeded span of simulation time: a uniform draw in [min, max] ns. */
const nsWindowSchema = z
  .strictObject({
    min: z.number().int('must be a whole number of ns').min(0, 'must not be negative'),
    max: z.number().int('must be a whole number of ns').min(0, 'must not be negative'),
  })
  .refine((w) => w.min <= w.max, { path: ['max'], message: 'must be at least min' });

/**
 * Node faults of the back-ends, drawn from the seed (`node-faults` stream). `crash`: with
 * `probability`, one of `nodes` (default: every back-end) crashes at a time in `afterNs` (its
 * machine is powered off mid-instruction, its NIC unplugged: no FIN, no RST) and, with `downNs`,
 * restarts that long after with fresh memory (a new machine, new Ebb reps, `main` again) under
 * its old node id, address and MAC. Without `downNs` it stays down.
 */
export const nodeFaultsSchema = z.strictObject({
  crash: z
    .strictObject({
      probability: z.number().min(0, 'must be in 0..1').max(1, 'must be in 0..1').default(1),
      nodes: z.array(z.number().int('must be a node id').min(1, 'must be a back-end node id (1..)')).min(1, 'must list at least one node').optional(),
      afterNs: nsWindowSchema,
      downNs: nsWindowSchema.optional(),
    })
    .optional(),
});
export type NodeFaultsConfig = z.output<typeof nodeFaultsSchema>;

/**
 * A network partition that heals, on the switch: with `probability`, `nodes` (default: one
 * back-end drawn from the seed) are cut from the rest at a time in `afterNs` for a time in
 * `durationNs`: frames between the two sides are dropped (counted `network.partition-drop`);
 * frames within a side still pass.
 */
export const partitionSchema = z.strictObject({
  probability: z.number().min(0, 'must be in 0..1').max(1, 'must be in 0..1').default(1),
  nodes: z
    .array(z.number().int('must be a node id').min(1, 'must be a back-end node id (1..)'))
    .min(1, 'must list at least one node')
    .refine((ns) => new Set(ns).size === ns.length, 'must not list a node twice')
    .optional(),
  afterNs: nsWindowSchema,
  // The heal is durationNs after the start: a zero length would heal at (not after) the start.
  durationNs: nsWindowSchema.refine((w) => w.min >= 1, { path: ['min'], message: 'must be at least 1 ns (the heal must come after the start)' }),
});
export type PartitionConfig = z.output<typeof partitionSchema>;

export const machineSchema = z.strictObject({
  cores: z.number().int('must be a whole number').min(1, 'must be at least 1').max(256, 'must be at most 256'),
  memory: byteSizeSchema,
  numaNodes: z.number().int().min(1).max(8).default(1),
  faults: coreFaultsSchema.optional(),
});

export const watchdogSchema = z.strictObject({
  /** Report (never kill) an event that runs longer than this, in microseconds of wall time. */
  budgetUs: z.number().positive(),
});

const probability = z.number().min(0, 'must be in 0..1').max(1, 'must be in 0..1');

/** 'a.b.c.d/len': an IPv4 network or host with its prefix length. */
const cidrSchema = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "an IPv4 prefix such as '10.0.0.0/24'").refine(
  (text) => {
    const [addr, len] = text.split('/');
    return addr!.split('.').every((o) => Number(o) <= 255) && Number(len) >= 8 && Number(len) <= 30;
  },
  'octets must be 0..255 and the prefix length 8..30',
);

/** Properties of each node's link to the switch (see hw-x86sim's LinkProps). */
export const linkSchema = z.strictObject({
  latencyNs: z.number().min(0).optional(),
  bandwidthBps: z.number().min(0).optional(),
  loss: probability.optional(),
  duplicate: probability.optional(),
  reorder: probability.optional(),
  reorderDelayNs: z.number().min(0).optional(),
  corrupt: probability.optional(),
});

/** `[host:]port` on the machine running the front-end. */
const listenSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const m = typeof v === 'number' ? [String(v), undefined, String(v)] : /^(?:([^:]+):)?(\d+)$/.exec(v);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not [host:]port with a port in 0..65535` });
    return z.NEVER;
  }
  return { host: m[1] ?? '127.0.0.1', port };
});

/** A host TCP port whose connections are carried into the simulated network to one node. */
export const forwardSchema = z.strictObject({
  listen: listenSchema,
  /** Back-end node id (1..nodes). */
  node: z.number().int().min(1),
  port: z.number().int().min(1).max(65535),
});

/**
 * The simulated network the back-ends share: one L2 switch, a link per node. Back-end node k gets
 * host address k + 1 of `subnet` (node 1 = 10.0.0.2), the runtime's gateway gets host 1.
 */
export const networkSchema = z.strictObject({
  subnet: cidrSchema.default('10.0.0.0/24'),
  link: linkSchema.default({}),
  /** Write every frame the nodes send to this pcap file (relative to the app directory). */
  pcap: z.string().min(1).optional(),
  /**
   * Join the switch to a Linux TAP device (needs root, /dev/net/tun and socat). `address` is the
   * Linux side's address in the subnet (default: the last host address).
   */
  tap: z
    .strictObject({
      address: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, 'a dotted-quad IPv4 address').optional(),
      name: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'a Linux interface name (1..15 characters)').default('ebbrt0'),
      /** Fail the run when TAP cannot be set up, instead of continuing without it. */
      required: z.boolean().default(false),
      /**
       * SO_RCVBUF and SO_SNDBUF, in bytes, of both UDP sockets between the switch and the TAP
       * (the bridge's and socat's); Linux caps them at net.core.rmem_max / wmem_max. With the
       * system default (~208 KiB) socat's receive buffer overflowed when many connections sent
       * multi-segment replies in one step, and each lost tail segment cost a 200 ms RTO.
       * 0 keeps the system default on both.
       */
      socketBufferBytes: z.number().int().min(0).max(1 << 30).default(4 * 1024 * 1024),
      /**
       * The TAP's MTU. Linux's MSS towards the nodes follows it, so it pays only with a native
       * NetworkManager of the same `mtu` (up to 9000): a 16 KiB reply is then 2 frames, not 12,
       * and every frame crosses socat as one datagram and two syscalls.
       */
      mtu: z.number().int().min(576).max(9000).default(1500),
      /**
       * What joins the TAP to the switch: 'socat' (one frame per UDP datagram) or 'helper'
       * (@ebbrt/host-network's ebbrt-tap-bridge, built with the system C compiler on first use:
       * the frames of a burst share one datagram each way, so a burst costs one send, not one
       * per frame). Without a compiler the run uses socat, or fails when `required`.
       */
      relay: z.enum(['socat', 'helper']).default('socat'),
    })
    .optional(),
  /**
   * Hardware faults of every back-end node's virtio-net NIC (RX ring exhaustion, late or lost
   * interrupts, late TX completions: `VirtioNetFaults` of @ebbrt/hw-x86sim), drawn from the seed.
   * Checked by the device when the network is built, naming `config.network.nic.faults.<field>`.
   */
  nic: z.strictObject({ faults: z.record(z.string(), z.unknown()).optional() }).default({}),
  /** A partition of the back-ends that heals (see partitionSchema). */
  partition: partitionSchema.optional(),
  /**
   * The runtime's gateway node (port forwards, host access): a 1-core machine running the native
   * NetworkManager. `nic: 'direct'` (the default) plugs it into the switch with a ring-less port
   * (frames handed over as byte arrays, no descriptor rings, no TX-completion interrupt);
   * `'virtio'` gives it a virtio-net NIC like every back-end's. Either way the client's bytes reach
   * the back-end through the gateway's TCP/IP stack and then the back-end's own.
   */
  gateway: z.strictObject({ nic: z.enum(['direct', 'virtio']).default('direct') }).default({ nic: 'direct' }),
  /** Host ports carried into the simulated network through the runtime's gateway node. */
  forwards: z.array(forwardSchema).default([]),
  /**
   * Host loopback ports the app's nodes may reach at the gateway's address (host 1), like a QEMU
   * guest reaching the host at 10.0.2.2: a node's connection to `<gateway>:P` reaches
   * `127.0.0.1:P` for each P listed, and nothing else. Opt-in per port, and only the app's own
   * nodes (by source address) are relayed: anything else that reaches the subnet (a TAP peer, a
   * foreign host) gets a RST, as from a closed port.
   */
  hostAccess: z
    .array(z.number({ error: 'must be a port number' }).int('must be a whole port number').min(1, 'must be a port in 1..65535').max(65535, 'must be a port in 1..65535'), {
      error: (issue) =>
        issue.input === true || issue.input === false
          ? 'is a list of host ports now (e.g. [8080]): `true` opened every loopback port of the host to the subnet'
          : 'must be a list of host ports (e.g. [8080])',
    })
    .default([])
    .refine((ports) => new Set(ports).size === ports.length, 'lists a port twice'),
});
export type NetworkConfig = z.output<typeof networkSchema>;

export const appConfigSchema = z.strictObject({
  name: z.string().min(1).default('app'),
  /** Modules (relative to the app directory) exporting `main(context)`. */
  entry: z
    .strictObject({ frontend: z.string().min(1).optional(), backend: z.string().min(1).optional() })
    .refine((e) => e.frontend !== undefined || e.backend !== undefined, {
      message: 'needs a frontend or backend entry point',
    }),
  clock: z.enum(['virtual', 'realtime']).default('virtual'),
  seed: z.number().int().min(0).max(0xffffffff).default(1),
  frontend: z
    .strictObject({
      cores: z.number().int().min(1).max(64).default(1),
      ebbs: ebbsSchema.default({}),
    })
    .default({ cores: 1, ebbs: {} }),
  backend: z
    .strictObject({
      nodes: z.number().int('must be a whole number').min(0, 'must not be negative').default(1),
      machine: machineSchema,
      ebbs: ebbsSchema.default({}),
      /**
       * Where back-end nodes run: a NodePlatform package, by name or `{ package, options }`
       * (validated by the package's `platform` manifest). Shorthands: 'in-process' (the default:
       * simulated machines in this process) is @ebbrt/platform-in-process, 'process' (one OS
       * process per node, Messengers over real loopback TCP) is @ebbrt/platform-process.
       */
      platform: platformChoiceSchema.default('in-process'),
      /** Seeded node crashes and restarts (see nodeFaultsSchema). */
      faults: nodeFaultsSchema.optional(),
    })
    .optional(),
  /** The back-ends' network; needed by a native NetworkManager, TAP and port forwards. */
  network: networkSchema.optional(),
  watchdog: watchdogSchema.optional(),
  /** Arguments handed to back-end nodes. */
  args: z.array(z.string()).default([]),
  /** Faults of the application's services, drawn from the seed (`faults.offload`: see offload-faults.ts). */
  faults: appFaultsSchema.optional(),
}).superRefine((config, ctx) => {
  const nodes = config.backend?.nodes ?? 0;
  config.backend?.faults?.crash?.nodes?.forEach((n, i) => {
    if (n > nodes) ctx.addIssue({ code: 'custom', path: ['backend', 'faults', 'crash', 'nodes', i], message: `there is no back-end node ${n} (backend.nodes is ${nodes})` });
  });
  const network = config.network;
  if (network === undefined) return;
  network.partition?.nodes?.forEach((n, i) => {
    if (n > nodes) ctx.addIssue({ code: 'custom', path: ['network', 'partition', 'nodes', i], message: `there is no back-end node ${n} (backend.nodes is ${nodes})` });
  });
  network.forwards.forEach((f, i) => {
    if (f.node > nodes) {
      ctx.addIssue({ code: 'custom', path: ['network', 'forwards', i, 'node'], message: `there is no back-end node ${f.node} (backend.nodes is ${nodes})` });
    }
  });
  // Host sockets and the Linux kernel live in real time; a virtual clock would race past them.
  if (config.clock !== 'realtime') {
    if (network.forwards.length > 0) ctx.addIssue({ code: 'custom', path: ['network', 'forwards'], message: "port forwards need clock: 'realtime'" });
    if (network.tap !== undefined) ctx.addIssue({ code: 'custom', path: ['network', 'tap'], message: "a TAP device needs clock: 'realtime'" });
    if (network.hostAccess.length > 0) ctx.addIssue({ code: 'custom', path: ['network', 'hostAccess'], message: "host access needs clock: 'realtime'" });
  }
  const [, lenText] = network.subnet.split('/');
  const hosts = 2 ** (32 - Number(lenText)) - 2;
  // Host 1 is the gateway, hosts 2..nodes+1 the back-ends; the TAP takes the last one.
  if (nodes + 1 + (network.tap !== undefined ? 1 : 0) > hosts) {
    ctx.addIssue({ code: 'custom', path: ['network', 'subnet'], message: `${network.subnet} has ${hosts} host addresses, too few for ${nodes} nodes plus the gateway${network.tap ? ' and the TAP' : ''}` });
  }
});

export type AppConfigInput = z.input<typeof appConfigSchema>;
export type AppConfig = z.output<typeof appConfigSchema>;

/** Typed identity for `ebbrt.config.ts` files. */
export function defineConfig(config: AppConfigInput): AppConfigInput {
  return config;
}

/** Validates an application config; a bad field throws ConfigError naming it. */
export function parseAppConfig(input: unknown): AppConfig {
  return parseOrThrow(appConfigSchema, input, 'config');
}
