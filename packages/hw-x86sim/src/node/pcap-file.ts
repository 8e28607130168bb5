import { closeSync, openSync, writeSync } from 'node:fs';
import { PcapWriter, type PcapSink, type PcapWriterOptions } from '../net/pcap.js';

/** A sink writing to `path` (created/truncated now, written synchronously per record so a crash keeps what was seen). */
export function pcapFileSink(path: string): PcapSink {
  let fd: number | null = openSync(path, 'w');
  return {
    write(bytes) {
      if (fd !== null) writeSync(fd, bytes);
    },
    close() {
      if (fd === null) return;
      closeSync(fd);
      fd = null;
    },
  };
}

export interface PcapFileWriterOptions extends Omit<PcapWriterOptions, 'sink'> {
  /** The capture file. */
  path: string;
}

/** A `PcapWriter` that writes a file as it goes (Node only). */
export class PcapFileWriter extends PcapWriter {
  readonly path: string;

  constructor(options: PcapFileWriterOptions) {
    const { path, ...rest } = options;
    super({ ...rest, sink: pcapFileSink(path) });
    this.path = path;
  }
}
