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

  /** A line from the boot sequence itself, whatever core (if any) is current. */
  bootLog(line: string): void {
    this.write('boot', line);
  }

  private write(where: string, line: string): void {
    for (const part of String(line).split('\n')) this.sink(`[${this.label} ${where}] ${part}`);
  }
}
