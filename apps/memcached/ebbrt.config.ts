import { defineConfig } from '@ebbrt/runtime';

// memcached as a library OS: one back-end node of 2 cores running the native event manager, the
// SLQB allocator and the lwIP-style TCP/IP stack on a simulated virtio NIC, in real time.
// Clients reach it on 127.0.0.1:11211 through a port forward the runtime builds from our own
// stack, and, when run as root with socat installed, directly at 10.0.0.2:11211 over a Linux TAP.
// The same app on the hosted NetworkManager in the front-end: --config ebbrt.hosted.config.ts
// Jumbo frames (MTU 9000 on the node's NIC and on the TAP): a 16 KiB value crosses the TAP in 2
// frames instead of 12, and each frame costs a datagram through socat plus two syscalls there
// (issue 17 item 5; `pnpm bench memcached` part `tap` measures it against MTU 1500). Peers at
// 1500 (the gateway's host side, any other host) still work: TCP takes the smaller MSS.
export default defineConfig({
  name: 'memcached',
  entry: { backend: './src/main.ts' },
  clock: 'realtime',
  backend: {
    nodes: 1,
    machine: { cores: 2, memory: '512MiB' },
    ebbs: {
      EventManager: '@ebbrt/event-manager',
      MemoryAllocator: '@ebbrt/memory-allocator-slqb',
      NetworkManager: { package: '@ebbrt/network-manager-lwip', options: { mtu: 9000, rxBufferSize: 9216 } },
    },
  },
  network: {
    subnet: '10.0.0.0/24',
    forwards: [{ listen: '127.0.0.1:11211', node: 1, port: 11211 }],
    // relay 'helper': host-network's C relay packs the frames of a burst into one datagram each
    // way (about 2x socat here); without a C compiler the run says so and uses socat.
    tap: { name: 'ebbrt0', mtu: 9000, relay: 'helper' },
  },
  args: ['--port', '11211', '--memory-limit', '256MiB', '--max-item-size', '1MiB'],
});
