/**
 * A naive memcached-ish server over node:net, the baseline "what you get by writing it plainly in
 * Node": a Map from key to value, per-connection input buffered with Buffer.concat, one
 * socket.write per reply. It speaks just enough of both protocols for memcaslap and the bench's
 * own client: ASCII get/gets/set/delete/version/quit, binary GET/GETQ/GETK/GETKQ, SET/SETQ,
 * DELETE, NOOP, VERSION, QUIT. No expiry, no eviction, no CAS semantics.
 *
 * Run as a child process: `node --import tsx naive-server.ts [port]`; prints `listening <port>`.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';

interface Item {
  flags: number;
  value: Buffer;
  cas: bigint;
}

export function startNaiveServer(port: number, host = '127.0.0.1', onListening?: (port: number) => void): () => void {
  const store = new Map<string, Item>();
  let casCounter = 0n;
  const server = createServer((socket) => serve(socket));
  server.listen(port, host, () => onListening?.((server.address() as AddressInfo).port));
  return () => server.close();

  function serve(socket: Socket): void {
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let off = 0;
      for (;;) {
        const used = pending.length - off > 0 ? (pending[off] === 0x80 ? binary(pending, off) : ascii(pending, off)) : 0;
        if (used < 0) {
          socket.destroy();
          return;
        }
        if (used === 0) break;
        off += used;
      }
      pending = off === pending.length ? Buffer.alloc(0) : pending.subarray(off);
    });
    socket.on('error', () => socket.destroy());

    /** Handles one binary request at `off`; returns bytes used, 0 if incomplete. */
    function binary(b: Buffer, off: number): number {
      if (b.length - off < 24) return 0;
      const opcode = b[off + 1]!;
      const keyLen = b.readUInt16BE(off + 2);
      const extLen = b[off + 4]!;
      const bodyLen = b.readUInt32BE(off + 8);
      const opaque = b.readUInt32BE(off + 12);
      if (b.length - off < 24 + bodyLen) return 0;
      const keyStart = off + 24 + extLen;
      const key = b.toString('latin1', keyStart, keyStart + keyLen);
      const reply = (status: number, extras: Buffer | null, rkey: string | null, value: Buffer | null, cas = 0n): void => {
        const e = extras?.length ?? 0;
        const k = rkey === null ? 0 : Buffer.byteLength(rkey, 'latin1');
        const v = value?.length ?? 0;
        const out = Buffer.allocUnsafe(24 + e + k + v);
        out[0] = 0x81;
        out[1] = opcode;
        out.writeUInt16BE(k, 2);
        out[4] = e;
        out[5] = 0;
        out.writeUInt16BE(status, 6);
        out.writeUInt32BE(e + k + v, 8);
        out.writeUInt32BE(opaque, 12);
        out.writeBigUInt64BE(cas, 16);
        if (extras !== null) extras.copy(out, 24);
        if (rkey !== null) out.write(rkey, 24 + e, 'latin1');
        if (value !== null) value.copy(out, 24 + e + k);
        socket.write(out);
      };
      switch (opcode) {
        case 0x00: // GET
        case 0x09: // GETQ
        case 0x0c: // GETK
        case 0x0d: {
          // GETKQ
          const item = store.get(key);
          const quiet = opcode === 0x09 || opcode === 0x0d;
          const withKey = opcode === 0x0c || opcode === 0x0d;
          if (item === undefined) {
            if (!quiet) reply(0x0001, null, withKey ? key : null, Buffer.from('Not found'));
          } else {
            const flags = Buffer.allocUnsafe(4);
            flags.writeUInt32BE(item.flags, 0);
            reply(0, flags, withKey ? key : null, item.value, item.cas);
          }
          break;
        }
        case 0x01: // SET
        case 0x11: {
          // SETQ
          const flags = extLen >= 4 ? b.readUInt32BE(off + 24) : 0;
          const valueStart = keyStart + keyLen;
          const item = { flags, value: Buffer.from(b.subarray(valueStart, off + 24 + bodyLen)), cas: ++casCounter };
          store.set(key, item);
          if (opcode === 0x01) reply(0, null, null, null, item.cas);
          break;
        }
        case 0x04: // DELETE
          reply(store.delete(key) ? 0 : 0x0001, null, null, null);
          break;
        case 0x0a: // NOOP
          reply(0, null, null, null);
          break;
        case 0x0b: // VERSION
          reply(0, null, null, Buffer.from('1.6.0-naive'));
          break;
        case 0x07: // QUIT
          socket.end();
          break;
        default:
          reply(0x0081, null, null, Buffer.from('Unknown command'));
      }
      return 24 + bodyLen;
    }

    /** Handles one ASCII request at `off`; returns bytes used, 0 if incomplete, -1 to close. */
    function ascii(b: Buffer, off: number): number {
      const eol = b.indexOf('\r\n', off, 'latin1');
      if (eol < 0) return b.length - off > 4096 ? -1 : 0;
      const words = b.toString('latin1', off, eol).split(' ').filter((w) => w.length > 0);
      const cmd = words[0] ?? '';
      const lineLen = eol + 2 - off;
      if (cmd === 'get' || cmd === 'gets') {
        const parts: Buffer[] = [];
        for (const key of words.slice(1)) {
          const item = store.get(key);
          if (item === undefined) continue;
          parts.push(Buffer.from(`VALUE ${key} ${item.flags} ${item.value.length}${cmd === 'gets' ? ` ${item.cas}` : ''}\r\n`, 'latin1'), item.value, Buffer.from('\r\n'));
        }
        parts.push(Buffer.from('END\r\n'));
        socket.write(Buffer.concat(parts));
        return lineLen;
      }
      if (cmd === 'set' || cmd === 'add' || cmd === 'replace') {
        const bytes = Number(words[4]);
        if (!Number.isInteger(bytes) || bytes < 0) {
          socket.write('CLIENT_ERROR bad command line format\r\n');
          return lineLen;
        }
        if (b.length - (eol + 2) < bytes + 2) return 0;
        const key = words[1]!;
        const exists = store.has(key);
        const ok = cmd === 'set' || (cmd === 'add' ? !exists : exists);
        if (ok) store.set(key, { flags: Number(words[2]) >>> 0, value: Buffer.from(b.subarray(eol + 2, eol + 2 + bytes)), cas: ++casCounter });
        if (words[5] !== 'noreply') socket.write(ok ? 'STORED\r\n' : 'NOT_STORED\r\n');
        return lineLen + bytes + 2;
      }
      if (cmd === 'delete') {
        socket.write(store.delete(words[1] ?? '') ? 'DELETED\r\n' : 'NOT_FOUND\r\n');
        return lineLen;
      }
      if (cmd === 'version') socket.write('VERSION 1.6.0-naive\r\n');
      else if (cmd === 'quit') return -1;
      else socket.write('ERROR\r\n');
      return lineLen;
    }
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const stop = startNaiveServer(Number(process.argv[2] ?? 0), '127.0.0.1', (port) => console.log(`listening ${port}`));
  const quit = (): void => {
    stop();
    process.exit(0);
  };
  process.once('SIGTERM', quit);
  process.once('SIGINT', quit);
}
