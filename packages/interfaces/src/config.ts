import { z } from 'zod';
import { SystemInterfaces, type SystemInterfaceName } from './ebbs/interface-kinds.js';
import { parseOrThrow } from './validation.js';

const SIZE_UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** Parses "64MiB", "4096", 4096 into bytes. */
export const byteSizeSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+)\s*(B|KiB|MiB|GiB)?\s*$/.exec(v);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a size (use bytes or e.g. "64MiB")` });
    return z.NEVER;
  }
  return Number(m[1]) * SIZE_UNITS[m[2] ?? 'B']!;
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

export const machineSchema = z.strictObject({
  cores: z.number().int('must be a whole number').min(1, 'must be at least 1').max(256, 'must be at most 256'),
  memory: byteSizeSchema,
  numaNodes: z.number().int().min(1).max(8).default(1),
});

export const watchdogSchema = z.strictObject({
  /** Report (never kill) an event that runs longer than this, in microseconds of wall time. */
  budgetUs: z.number().positive(),
});

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
    })
    .optional(),
  watchdog: watchdogSchema.optional(),
  /** Arguments handed to back-end nodes. */
  args: z.array(z.string()).default([]),
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
