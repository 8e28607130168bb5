import type { EventFailure } from '@ebbrt/interfaces';

/** A report from the watchdog: an event ran past its wall-time budget. */
export interface WatchdogReport {
  readonly node: number;
  readonly core: number;
  readonly eventId: number;
  readonly name: string;
  readonly elapsedUs: number;
  readonly budgetUs: number;
}

/** Fan-out of failure and watchdog reports, shared by the native and hosted roots. */
export class EventReports {
  private failureListeners: ((f: EventFailure) => void)[] = [];
  private watchdogListeners: ((r: WatchdogReport) => void)[] = [];
  failures = 0;
  watchdogReports = 0;

  constructor(private readonly log: (line: string) => void) {}

  onFailure(listener: (f: EventFailure) => void): void {
    this.failureListeners.push(listener);
  }

  onWatchdog(listener: (r: WatchdogReport) => void): void {
    this.watchdogListeners.push(listener);
  }

  failure(f: EventFailure): void {
    this.failures++;
    if (this.failureListeners.length === 0) {
      const detail = f.error instanceof Error ? (f.error.stack ?? f.error.message) : String(f.error);
      this.log(`core ${f.core}: event #${f.eventId} failed: ${detail}`);
    }
    for (const l of this.failureListeners) l(f);
  }

  watchdog(r: WatchdogReport): void {
    this.watchdogReports++;
    this.log(
      `core ${r.core}: watchdog: event #${r.eventId} (${r.name}) ran ${r.elapsedUs.toFixed(0)} us, budget ${r.budgetUs} us`,
    );
    for (const l of this.watchdogListeners) l(r);
  }
}
