import type { EventManager } from '@ebbrt/interfaces';
import { TimerRep } from './timer-rep.js';

/** Timers on a front-end core, over Node's setTimeout; expiry re-enters the core as an event. */
export class HostedTimer extends TimerRep {
  private handle: ReturnType<typeof setTimeout> | undefined;
  private readonly onTimeout = (): void => {
    this.handle = undefined;
    this.events.spawn(() => this.expire(), { async: true });
  };

  protected nowNs(): number {
    return Math.round(performance.now() * 1e6);
  }

  protected arm(deadlineNs: number, background: boolean): void {
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
    if (deadlineNs === Infinity) return;
    this.handle = setTimeout(this.onTimeout, Math.max(0, Math.ceil((deadlineNs - this.nowNs()) / 1e6)));
    // Only background timers pending: they keep the front-end process no more alive than the run.
    if (background) this.handle.unref();
  }

  constructor(events: EventManager) {
    super(events);
  }
}
