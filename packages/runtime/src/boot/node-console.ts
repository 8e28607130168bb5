import { cpu, type NodeContext } from '@ebbrt/core-translation';
import type { Console } from '@ebbrt/interfaces';

/**
 * A node's console, installed as a static shared Ebb. Lines carry the node and
 * the core that wrote them; where they go (a serial port, stdout) is the sink's business.
 */
export class NodeConsole implements Console {
  constructor(
    private readonly node: NodeContext,
    private readonly label: string,
    private readonly sink: (line: string) => void,
  ) {}

  log(line: string): void {
    const core = cpu.current;
    this.write(core !== undefined && core.node === this.node ? `core ${core.index}` : 'boot', line);
  }

  private booted = false;

  /** A line from the boot sequence itself, whatever core (if any) is current. */
  bootLog(line: string): void {
    this.write('boot', line);
  }

  /** The node has booted: from now on an Ebb's lines are labelled by that Ebb, not `boot`. */
  markBooted(): void {
    this.booted = true;
  }

  /**
   * A line an Ebb wrote through its install context's `log`: `boot` while the node boots; after
   * that the Ebb that wrote it and the core it ran on (`[node 1 core 0 Messenger]`), or just the
   * Ebb outside any core of this node (a host socket's callback): a Messenger line minutes after
   * boot no longer reads as part of the boot.
   */
  ebbLog(ebb: string, line: string): void {
    if (!this.booted) {
      this.write('boot', line);
      return;
    }
    const core = cpu.current;
    this.write(core !== undefined && core.node === this.node ? `core ${core.index} ${ebb}` : ebb, line);
  }

  private write(where: string, line: string): void {
    for (const part of String(line).split('\n')) this.sink(`[${this.label} ${where}] ${part}`);
  }
}
