import type { EventFn } from '@ebbrt/interfaces';
import type { HostedNetworkOptions } from './options.js';

/** What sockets need from their NetworkManager: the node's shape, options and the way into a core. */
export interface HostContext {
  readonly options: HostedNetworkOptions;
  readonly nodeId: number;
  readonly numCores: number;
  /** Queues `fn` as an event on `core` (the EventManagerRoot's post). */
  post(core: number, fn: EventFn): void;
  /** Logs to the node's console. */
  log(line: string): void;
  /** Drops a socket the NetworkManager tracks for closeAll(). */
  forget(socket: object): void;
  /** Counts a socket error that ended a connection (the stats' drop reasons). */
  socketError(error: Error): void;
}
