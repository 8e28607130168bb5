/*
 * ebbrt-tap-bridge: joins a Linux TAP device to a UdpTapBridge on 127.0.0.1, packing several
 * Ethernet frames into one UDP datagram each way (socat carries one frame per datagram, so every
 * frame costs a datagram, a wake-up and two syscalls on each side).
 *
 *   ebbrt-tap-bridge <tap-name> <bridge-udp-port> <socket-buffer-bytes> [inherit]
 *
 * With `inherit`, fd 3 is an open /dev/net/tun that the parent passed (Node opens it): the helper
 * attaches that shared open file to the TAP (TUNSETIFF acts on the file, not the descriptor), so
 * the parent can write the nodes' frames into the TAP itself, one write per frame, with no
 * datagram and no wake-up of this process on the way out. The helper still reads the TAP (and
 * still relays any datagram it gets to it).
 *
 * Creates the TAP (IFF_TAP | IFF_NO_PI; the caller assigns the address, MTU and brings it up),
 * prints "ready <ifname> <its udp port>" on stdout, then relays until SIGTERM or its stdin closes (its parent
 * died). A datagram is a sequence of records [u16 big-endian frame length][frame bytes]. A
 * datagram is checked whole before any of it is written to the TAP: one with a zero-length
 * record, a cut length header or a record past its end is dropped whole and counted by reason
 * (as @ebbrt/hw-x86sim's unpackFrames does on the other side).
 *
 * TAP -> UDP: frames are read until the TAP has no more (non-blocking) or the datagram is full,
 * then sent as one datagram. UDP -> TAP: each frame of a datagram is one write (the TAP takes
 * one frame per write). On exit it prints its counters on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_DATAGRAM 65507
#define MAX_FRAME 65535

static volatile sig_atomic_t stop = 0;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
  if (argc != 4 && !(argc == 5 && strcmp(argv[4], "inherit") == 0)) {
    fprintf(stderr, "usage: %s <tap-name> <bridge-udp-port> <socket-buffer-bytes> [inherit]\n", argv[0]);
    return 2;
  }
  int inherit = argc == 5;
  const char *name = argv[1];
  int port = atoi(argv[2]);
  int sockbuf = atoi(argv[3]);
  if (strlen(name) >= IFNAMSIZ || port <= 0 || port > 65535 || sockbuf < 0) {
    fprintf(stderr, "bad arguments: name %s port %s buffer %s\n", argv[1], argv[2], argv[3]);
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int tap = inherit ? 3 : open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (tap < 0) { perror("open /dev/net/tun"); return 1; }
  /* Non-blocking reads (the status flag is the shared file's: the parent's writes to a TAP never
     wait anyway). */
  if (inherit && fcntl(tap, F_SETFL, fcntl(tap, F_GETFL) | O_NONBLOCK) < 0) { perror("fcntl fd 3 (inherit: the parent must pass /dev/net/tun as fd 3)"); return 1; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(tap, TUNSETIFF, &ifr) < 0) { perror("TUNSETIFF"); return 1; }

  int udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (udp < 0) { perror("socket"); return 1; }
  if (sockbuf > 0) {
    setsockopt(udp, SOL_SOCKET, SO_RCVBUF, &sockbuf, sizeof sockbuf);
    setsockopt(udp, SOL_SOCKET, SO_SNDBUF, &sockbuf, sizeof sockbuf);
  }
  struct sockaddr_in local = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0 };
  struct sockaddr_in peer = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons((uint16_t)port) };
  if (bind(udp, (struct sockaddr *)&local, sizeof local) < 0) { perror("bind"); return 1; }
  /* Connected: the kernel drops datagrams from anyone but the bridge. */
  if (connect(udp, (struct sockaddr *)&peer, sizeof peer) < 0) { perror("connect"); return 1; }
  struct sockaddr_in bound;
  socklen_t bound_len = sizeof bound;
  if (getsockname(udp, (struct sockaddr *)&bound, &bound_len) < 0) { perror("getsockname"); return 1; }
  printf("ready %s %d\n", ifr.ifr_name, ntohs(bound.sin_port));
  fflush(stdout);

  static uint8_t out[MAX_DATAGRAM];
  static uint8_t in[MAX_DATAGRAM];
  static uint8_t frame[MAX_FRAME];
  unsigned long long tap_frames = 0, datagrams_out = 0, datagrams_in = 0, frames_in = 0, tap_write_errors = 0, send_errors = 0;
  unsigned long long bad_short_header = 0, bad_empty_record = 0, bad_overrun = 0;
  size_t pending = 0; /* a frame read that did not fit the datagram being filled */
  struct pollfd fds[3] = { { .fd = tap, .events = POLLIN }, { .fd = udp, .events = POLLIN }, { .fd = 0, .events = POLLIN } };
  while (!stop) {
    int n = poll(fds, 3, 1000);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("poll");
      break;
    }
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      char c;
      if (read(0, &c, 1) <= 0) break; /* the parent is gone */
    }
    if (fds[0].revents & POLLIN) {
      /* Datagram after datagram until the TAP has nothing more: a frame that did not fit one
         starts the next, so nothing read waits for another wake-up. */
      int more = 1;
      while (more) {
        size_t used = 0;
        if (pending > 0) {
          out[0] = (uint8_t)(pending >> 8);
          out[1] = (uint8_t)pending;
          memcpy(out + 2, frame, pending);
          used = pending + 2;
          pending = 0;
        }
        more = 0;
        for (;;) {
          ssize_t r = read(tap, frame, sizeof frame);
          if (r <= 0) break;
          tap_frames++;
          if (used + 2 + (size_t)r > sizeof out) {
            pending = (size_t)r;
            more = 1;
            break;
          }
          out[used] = (uint8_t)(r >> 8);
          out[used + 1] = (uint8_t)r;
          memcpy(out + used + 2, frame, (size_t)r);
          used += 2 + (size_t)r;
        }
        if (used > 0) {
          if (send(udp, out, used, 0) < 0) send_errors++;
          else datagrams_out++;
        }
      }
    }
    if (fds[1].revents & POLLIN) {
      for (int k = 0; k < 64; k++) {
        ssize_t r = recv(udp, in, sizeof in, 0);
        if (r <= 0) break;
        datagrams_in++;
        /* Check the whole datagram first: nothing of a malformed one reaches the TAP. */
        size_t at = 0;
        int ok = 1;
        while (at < (size_t)r) {
          if (at + 2 > (size_t)r) { bad_short_header++; ok = 0; break; }
          size_t len = ((size_t)in[at] << 8) | in[at + 1];
          if (len == 0) { bad_empty_record++; ok = 0; break; }
          if (at + 2 + len > (size_t)r) { bad_overrun++; ok = 0; break; }
          at += 2 + len;
        }
        if (!ok) continue;
        for (at = 0; at < (size_t)r;) {
          size_t len = ((size_t)in[at] << 8) | in[at + 1];
          if (write(tap, in + at + 2, len) < 0) tap_write_errors++;
          else frames_in++;
          at += 2 + len;
        }
      }
    }
  }
  fprintf(stderr,
          "ebbrt-tap-bridge: tap frames %llu in %llu datagrams; %llu datagrams -> %llu frames; rejected datagrams: short-header %llu, empty-record %llu, overrun %llu; tap write errors %llu, send errors %llu\n",
          tap_frames, datagrams_out, datagrams_in, frames_in, bad_short_header, bad_empty_record, bad_overrun, tap_write_errors, send_errors);
  close(tap);
  close(udp);
  return 0;
}
