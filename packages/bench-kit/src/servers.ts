/**
 * A bench starts the servers it compares; one that cannot start here (a tool not installed, a
 * TAP device refused) must not end the whole run: it becomes a note naming it, and the bench
 * measures the rest.
 */

/** The first line of what a failed start threw (a child's stderr can run to pages). */
function firstLine(e: unknown): string {
  return e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e);
}

/**
 * `start(what, f)` runs `f`; what it returns is kept in `started` (for the bench to stop at the
 * end) and returned, and a throw becomes the note `<what> did not start: <first line>` and
 * `undefined`.
 */
export function serverStarter<S>(started: S[], notes: string[]): <T extends S>(what: string, f: () => Promise<T>) => Promise<T | undefined> {
  return async (what, f) => {
    try {
      const s = await f();
      started.push(s);
      return s;
    } catch (e) {
      notes.push(`${what} did not start: ${firstLine(e)}`);
      return undefined;
    }
  };
}
