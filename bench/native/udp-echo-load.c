/* UDP echo load: keeps `window` datagrams of `size` bytes in flight to ip:port for `seconds` and
 * counts the echoes that come back. When nothing returns for 5 ms the flight is assumed lost and
 * the window is refilled. Prints "echoes N seconds S". Built and run by bench/echo-tap.ts. */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s ip port size window seconds\n", argv[0]);
    return 2;
  }
  int size = atoi(argv[3]), window = atoi(argv[4]);
  double seconds = atof(argv[5]);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) return 2;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int big = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) return perror("connect"), 1;
  static char buf[65536];
  memset(buf, 0x5a, sizeof buf);
  long echoes = 0;
  for (int i = 0; i < window; i++) send(fd, buf, size, 0);
  double start = now(), end = start + seconds;
  while (now() < end) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 5) > 0) {
      ssize_t n;
      while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) >= 0) {
        if (n == size) echoes++;
        send(fd, buf, size, 0);
      }
    } else {
      for (int i = 0; i < window; i++) send(fd, buf, size, 0);
    }
  }
  printf("echoes %ld seconds %.3f\n", echoes, now() - start);
  return 0;
}
