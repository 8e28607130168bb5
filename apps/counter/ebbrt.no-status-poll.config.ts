import { defineConfig } from '@ebbrt/runtime';
import base from './ebbrt.config.js';

// The counter with the driver's device-status poll off (`deviceStatusPolling: false`): a device
// reset whose configuration interrupt was lost (`nic.configInterruptLoss`) is then never noticed,
// and that node's NIC stays dead. The test shows such seeds fail, where the real config holds.
const ebbs = base.backend!.ebbs!;
const nm = ebbs.NetworkManager as { package: string; options: Record<string, unknown> };
export default defineConfig({
  ...base,
  name: 'counter-no-status-poll',
  backend: { ...base.backend!, ebbs: { ...ebbs, NetworkManager: { ...nm, options: { ...nm.options, deviceStatusPolling: false } } } },
});
