import { EbbRef } from '@ebbrt/core-translation';
import {
  SystemEbbIds,
  type EventManager,
  type InterfaceInfo,
  type IOBuf,
  type NetworkManager,
  type TcpConnection,
  type TcpHandler,
  type TcpListener,
  type Timer,
  type UdpSocket,
} from '@ebbrt/interfaces';
import { parseAddress } from './iface/udp.js';
import { ipv4ToString, macToString } from './wire/index.js';
import type { LwipNetworkManagerRoot } from './root.js';

export interface PingOptions {
  /** Echo requests to send, one after the other. Default 1. */
  count?: number;
  /** ICMP data bytes. Default 56. */
  payloadSize?: number;
  /** Give up on one request after this long. Default 1 s. */
  timeoutUs?: number;
}

/** 65535 − a 20-byte IPv4 header − the 8-byte ICMP header. */
const MAX_PING_PAYLOAD = 65507;

const emRef = new EbbRef<EventManager>(SystemEbbIds.EventManager);
const timerRef = new EbbRef<Timer>(SystemEbbIds.Timer);

/** Per-core rep of the native NetworkManager. */
export class LwipNetworkManager implements NetworkManager {
  constructor(
    readonly root: LwipNetworkManagerRoot,
    readonly core: number,
  ) {}

  interfaces(): readonly InterfaceInfo[] {
    const c = this.root.iface.config;
    return [
      {
        name: c.name,
        mac: macToString(c.mac),
        address: ipv4ToString(c.address),
        netmask: ipv4ToString(c.netmask),
        gateway: c.gateway === undefined ? undefined : ipv4ToString(c.gateway),
      },
    ];
  }

  udpBind(port: number, receive: (from: { address: string; port: number }, data: IOBuf) => void): UdpSocket {
    return this.root.iface.udpBind(port, receive);
  }

  tcpListen(port: number, accept: (connection: TcpConnection) => TcpHandler): TcpListener {
    return this.root.tcp.listen(port, accept, this.core);
  }

  tcpConnect(address: string, port: number, handler: TcpHandler): TcpConnection {
    return this.root.tcp.connect(parseAddress(address), port, handler, this.core);
  }

  /**
   * Resolves once the driver is up (every queue pair set up, DRIVER_OK) and, with
   * `address: 'dhcp'`, a lease is bound, on this core. Rejects if the DHCP client gives up.
   */
  async whenReady(): Promise<void> {
    if (this.root.ready) return;
    const p = emRef.deref().promise<void>();
    this.root.whenReady(() => p.resolve(), (e) => p.reject(e));
    await p.promise;
  }

  /**
   * ICMP echo: sends `count` requests one after another, each waiting for its reply or
   * `timeoutUs`. Resolves (on this core) to the round-trip times in ns of the replies received.
   */
  async ping(address: string, options: PingOptions = {}): Promise<number[]> {
    const { count = 1, payloadSize = 56, timeoutUs = 1_000_000 } = options;
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`ping: count must be a positive integer, got ${count}`);
    // Above mtu − 28 the request goes out in IPv4 fragments.
    if (!Number.isInteger(payloadSize) || payloadSize < 0 || payloadSize > MAX_PING_PAYLOAD) {
      throw new RangeError(`ping: payloadSize must be an integer in 0..${MAX_PING_PAYLOAD}, got ${payloadSize}`);
    }
    const dst = parseAddress(address);
    await this.whenReady();
    const iface = this.root.iface;
    const id = iface.newEchoIdentifier();
    const rtts: number[] = [];
    for (let seq = 0; seq < count; seq++) {
      const p = emRef.deref().promise<number>();
      let settled = false;
      const settle = (v: number): void => {
        if (settled) return;
        settled = true;
        p.resolve(v);
      };
      const timer = timerRef.deref().start(() => {
        iface.cancelEcho(id, seq);
        settle(Number.NaN);
      }, timeoutUs);
      iface.sendEchoRequest(dst, id, seq, payloadSize, settle);
      const rtt = await p.promise;
      timer.stop();
      if (!Number.isNaN(rtt)) rtts.push(rtt);
    }
    return rtts;
  }
}
