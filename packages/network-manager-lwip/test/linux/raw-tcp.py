"""Crafted TCP segments from inside the Linux netns (raw sockets, no scapy needed).

  raw-tcp.py flood SRC DST PORT N      N SYNs from the spoofed address SRC (which never answers)
  raw-tcp.py probe SRC DST PORT        one segment per probe kind; prints the reply flags as JSON
  raw-tcp.py connect DST PORT TIMEOUT  a real kernel connect + 4-byte echo; prints ms as JSON
  raw-tcp.py send DST PORT BYTES       kernel socket: sends BYTES of a fixed pattern, closes; sha256 + ms
  raw-tcp.py fetch DST PORT BYTES      kernel socket: sends 'go', reads BYTES; prints the count
  raw-tcp.py small DST PORT            kernel socket: one 100-byte write, 300 ms idle, close
  raw-tcp.py sink ADDR PORT BYTES      kernel listener: one connection read to EOF; bytes + ms

Every loop is bounded in count and time; traffic goes only to DST (the node behind the TAP).
"""
import json, socket, struct, sys, time


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def tcp(src, dst, sport, dport, seq, ack, flags, opts=b'', win=65535):
    opts += b'\0' * ((4 - len(opts) % 4) % 4)
    hl = 20 + len(opts)
    h = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, (hl // 4) << 4, flags, win, 0, 0) + opts
    ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, len(h))
    return h[:16] + struct.pack('!H', csum(ph + h)) + h[18:]


def ip(src, dst, payload):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 0, 0, 64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload


F = {'F': 1, 'S': 2, 'R': 4, 'P': 8, 'A': 16, 'U': 32}
MSS_WS = b'\x02\x04\x05\xb4\x01\x03\x03\x07'  # MSS 1460, NOP, window scale 7


def flags_text(f):
    return ''.join(k for k, v in F.items() if f & v) or 'none'


def flood(src, dst, port, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    t0 = time.time()
    for i in range(n):
        s.sendto(ip(src, dst, tcp(src, dst, 20000 + i, port, 1000 * i, 0, F['S'], MSS_WS)), (dst, 0))
        if i % 32 == 31:
            time.sleep(0.002)  # let the bridge keep up (its UDP buffer is the kernel default)
    print(json.dumps({'sent': n, 'ms': round((time.time() - t0) * 1000)}))


def probe(src, dst, port, closed):
    send = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    recv = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    recv.settimeout(0.05)
    kinds = [
        ('null', port, 0, b''), ('fin', port, F['F'], b''), ('xmas', port, F['F'] | F['P'] | F['U'], b''),
        ('synfin', port, F['S'] | F['F'], MSS_WS),
        # MSS 1460 then a window-scale option whose length (9) runs past the options area.
        ('badopt', port, F['S'], b'\x02\x04\x05\xb4\x03\x09\x07\x00'),
        ('null-closed', closed, 0, b''), ('xmas-closed', closed, F['F'] | F['P'] | F['U'], b''),
    ]
    out = {}
    for k, (name, dport, fl, opts) in enumerate(kinds):
        sport = 41000 + k
        send.sendto(ip(src, dst, tcp(src, dst, sport, dport, 5000 + k, 0, fl, opts)), (dst, 0))
        reply = 'none'
        deadline = time.time() + 0.7
        while time.time() < deadline:
            try:
                pkt = recv.recv(2048)
            except socket.timeout:
                continue
            ihl = (pkt[0] & 15) * 4
            if socket.inet_ntoa(pkt[12:16]) != dst:
                continue
            sp, dp = struct.unpack('!HH', pkt[ihl:ihl + 4])
            if sp == dport and dp == sport:
                reply = flags_text(pkt[ihl + 13])
                break
        out[name] = reply
    print(json.dumps(out))


def connect(dst, port, timeout):
    t0 = time.time()
    try:
        c = socket.create_connection((dst, port), timeout=timeout)
        c.sendall(b'ping')
        got = b''
        while len(got) < 4:
            d = c.recv(4 - len(got))
            if not d:
                break
            got += d
        c.close()
        print(json.dumps({'ok': got == b'ping', 'ms': round((time.time() - t0) * 1000)}))
    except OSError as e:
        print(json.dumps({'ok': False, 'ms': round((time.time() - t0) * 1000), 'error': str(e)}))


def pattern(n):
    return bytes((i * 31 + 7) & 0xff for i in range(256)) * (n // 256) + bytes((i * 31 + 7) & 0xff for i in range(n % 256))


def send(dst, port, n):
    import hashlib
    data = pattern(n)
    t0 = time.time()
    c = socket.create_connection((dst, port), timeout=30)
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    c.recv(1)  # the node closes after it has everything
    c.close()
    print(json.dumps({'sha256': hashlib.sha256(data).hexdigest(), 'ms': round((time.time() - t0) * 1000)}))


def fetch(dst, port, n):
    c = socket.create_connection((dst, port), timeout=10)
    c.sendall(b'go')
    got = 0
    while got < n:
        d = c.recv(65536)
        if not d:
            break
        got += len(d)
    c.close()
    print(json.dumps({'bytes': got}))


def small(dst, port):
    c = socket.create_connection((dst, port), timeout=10)
    c.sendall(b'x' * 100)
    time.sleep(0.3)
    c.close()
    print(json.dumps({'ok': True}))


def sink(addr, port, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    s.settimeout(30)
    c, _ = s.accept()
    c.settimeout(30)
    t0 = time.time()
    got = 0
    while got < n:
        d = c.recv(1 << 20)
        if not d:
            break
        got += len(d)
    ms = round((time.time() - t0) * 1000)
    c.close()
    s.close()
    print(json.dumps({'bytes': got, 'ms': ms}))


cmd = sys.argv[1]
if cmd == 'flood':
    flood(sys.argv[2], sys.argv[3], int(sys.argv[4]), min(int(sys.argv[5]), 5000))
elif cmd == 'probe':
    probe(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
elif cmd == 'connect':
    connect(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
elif cmd == 'send':
    send(sys.argv[2], int(sys.argv[3]), min(int(sys.argv[4]), 64 << 20))
elif cmd == 'fetch':
    fetch(sys.argv[2], int(sys.argv[3]), min(int(sys.argv[4]), 64 << 20))
elif cmd == 'sink':
    sink(sys.argv[2], int(sys.argv[3]), min(int(sys.argv[4]), 256 << 20))
elif cmd == 'small':
    small(sys.argv[2], int(sys.argv[3]))
else:
    sys.exit('unknown command ' + cmd)
