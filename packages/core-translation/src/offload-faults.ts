import type { FaultSink, OffloadFaultConfig } from '@ebbrt/interfaces';

/** What {@link OffloadFaults.draw} decided for one request. */
export type OffloadFault = { readonly kind: 'fail' } | { readonly kind: 'delay'; readonly us: number };

/**
 * The `faults.offload.<service>` plan of one node's offloaded Ebb (FileSystem, GlobalIdMap): a
 * draw per request from the Ebb's own seeded stream, each injected fault counted as
 * `offload.<service>.fail` or `offload.<service>.delay`. Without a plan (or a sink) it draws
 * nothing, so a run without these faults keeps its trace.
 */
export class OffloadFaults {
  private readonly stream: { next(): number } | undefined;

  constructor(
    /** `fileSystem` or `globalIdMap`: the config key, and the middle of the fault kinds. */
    readonly service: string,
    private readonly plan: OffloadFaultConfig | undefined,
    private readonly sink: FaultSink | undefined,
  ) {
    const on = plan !== undefined && (plan.fail !== undefined || plan.delay !== undefined);
    this.stream = on && sink !== undefined ? sink.stream(`offload-faults:${service}`) : undefined;
  }

  /** The fault for the next request (`what` names it in the trace), or undefined. One or two draws when on. */
  draw(what: Record<string, string | number>): OffloadFault | undefined {
    const stream = this.stream;
    if (stream === undefined) return undefined;
    const { fail, delay } = this.plan!;
    if (fail !== undefined && stream.next() < fail.probability) {
      this.sink!.record(`offload.${this.service}.fail`, what);
      return { kind: 'fail' };
    }
    if (delay !== undefined && stream.next() < delay.probability) {
      const us = 1 + Math.floor(stream.next() * delay.maxUs);
      this.sink!.record(`offload.${this.service}.delay`, { ...what, us });
      return { kind: 'delay', us };
    }
    return undefined;
  }

  /** The config field a caller's error names. */
  field(kind: 'fail' | 'delay'): string {
    return `faults.offload.${this.service}.${kind}`;
  }
}
