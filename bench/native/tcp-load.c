/* The kernel side of the TCP benchmarks: one client, the same for every peer measured (the stack,
 * lwIP, the kernel over a veth), and a small server for the kernel-to-kernel baseline.
 *
 *   tcp-load send ip port bytes   write `bytes` into a discard service, then half-close and wait
 *                                 for the peer's FIN (so the time covers the data taken)
 *   tcp-load recv ip port bytes   read `bytes` from a chargen-like sender, then close
 *   tcp-load echo ip port bytes   write `bytes` from one thread, read them back on another
 *   tcp-load serve port mode      accept connections one at a time; mode discard, chargen or echo
 *   tcp-load serve-udp port       UDP echo
 *
 * A client prints "bytes N seconds S cpu C" (N: bytes that crossed the measured direction; for
 * echo the bytes that came back; C: its own CPU seconds, the kernel's work done in its context
 * included), timed from just after connect() to the end. Built by bench/native/build.sh. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

static char out[CHUNK];
static char in[CHUNK];

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int connect_to(const char *ip, int port) {
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, ip, &to.sin_addr) != 1) return -1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
    perror("connect");
    return -1;
  }
  return fd;
}

static int write_all(int fd, long long bytes) {
  while (bytes > 0) {
    ssize_t n = write(fd, out, bytes < CHUNK ? bytes : CHUNK);
    if (n <= 0) return perror("write"), -1;
    bytes -= n;
  }
  return 0;
}

/* Reads until `limit` bytes (or end of stream when limit < 0): the bytes read. */
static long long read_up_to(int fd, long long limit) {
  long long total = 0;
  while (limit < 0 || total < limit) {
    long long want = limit < 0 || limit - total > CHUNK ? CHUNK : limit - total;
    ssize_t n = read(fd, in, want);
    if (n < 0) return perror("read"), total;
    if (n == 0) break;
    total += n;
  }
  return total;
}

struct writer {
  int fd;
  long long bytes;
};

static void *write_then_close(void *arg) {
  struct writer *w = arg;
  write_all(w->fd, w->bytes);
  shutdown(w->fd, SHUT_WR);
  return NULL;
}

static void serve(int port, const char *mode) {
  struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(port)};
  int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&at, sizeof at) != 0 || listen(fd, 8) != 0) {
    perror("listen");
    exit(1);
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    int c = accept(fd, NULL, NULL);
    if (c < 0) continue;
    if (strcmp(mode, "discard") == 0) {
      read_up_to(c, -1);
      shutdown(c, SHUT_WR);
    } else if (strcmp(mode, "chargen") == 0) {
      /* Until the reader closes: the write then fails. */
      while (write(c, out, CHUNK) > 0);
    } else {
      ssize_t n;
      while ((n = read(c, in, CHUNK)) > 0)
        if (write(c, in, n) != n) break;
      shutdown(c, SHUT_WR);
    }
    close(c);
  }
}

static void serve_udp(int port) {
  struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(port)}, from;
  int fd = socket(AF_INET, SOCK_DGRAM, 0), big = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  if (bind(fd, (struct sockaddr *)&at, sizeof at) != 0) {
    perror("bind");
    exit(1);
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    socklen_t length = sizeof from;
    ssize_t n = recvfrom(fd, in, 65536, 0, (struct sockaddr *)&from, &length);
    if (n >= 0) sendto(fd, in, n, 0, (struct sockaddr *)&from, length);
  }
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  memset(out, 0x5a, sizeof out);
  if (argc == 3 && strcmp(argv[1], "serve-udp") == 0) serve_udp(atoi(argv[2]));
  if (argc == 4 && strcmp(argv[1], "serve") == 0) {
    serve(atoi(argv[2]), argv[3]);
    return 0;
  }
  if (argc != 5) {
    fprintf(stderr, "usage: %s send|recv|echo ip port bytes | serve port mode\n", argv[0]);
    return 2;
  }
  long long bytes = atoll(argv[4]), moved = 0;
  int fd = connect_to(argv[2], atoi(argv[3]));
  if (fd < 0) return 1;
  double start = now();
  if (strcmp(argv[1], "send") == 0) {
    if (write_all(fd, bytes) != 0) return 1;
    shutdown(fd, SHUT_WR);
    read_up_to(fd, -1);
    moved = bytes;
  } else if (strcmp(argv[1], "recv") == 0) {
    moved = read_up_to(fd, bytes);
  } else {
    struct writer w = {fd, bytes};
    pthread_t t;
    pthread_create(&t, NULL, write_then_close, &w);
    moved = read_up_to(fd, -1);
    pthread_join(t, NULL);
  }
  double seconds = now() - start;
  close(fd);
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec +
               usage.ru_stime.tv_usec / 1e6;
  printf("bytes %lld seconds %.4f cpu %.4f\n", moved, seconds, cpu);
  return moved >= bytes ? 0 : 1;
}
