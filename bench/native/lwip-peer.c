/* lwIP as the baseline peer of the TAP benchmarks: Debian's liblwip (2.1.3, the unix port, built
 * threaded) on the TAP named by PRECONFIGURED_TAPIF at 192.0.2.2/24, serving with the raw API
 * what the stack serves in the same run:
 *   TCP 7 echo, 9 discard, 19 bulk sender (a fixed buffer until the peer closes), UDP 7 echo.
 * It prints "ready" once the interface is up, then runs until killed.
 *
 *   lwip-peer            frames go from the TAP thread to lwIP's thread through its mailbox
 *   lwip-peer direct     the TAP thread takes the core lock and runs the input itself (one thread
 *                        for the data path, the way a single-threaded port works)
 *
 * Debian's build has a heap overflow: part of the library sees glibc's <netinet/tcp.h> and its
 * TCP_MSS of 512, so the memory pools are sized for 512-byte segments while the TCP and pbuf code
 * uses 1460. memp_malloc() below (the library calls it through the PLT, so ours wins) allocates
 * at least a full frame's pbuf for every element, whatever size the library's table says.
 * Built by bench/native/build.sh. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "lwip/udp.h"
#include "netif/ethernet.h"
#include "netif/tapif.h"

#define SERVICE_ECHO 0
#define SERVICE_DISCARD 1
#define SERVICE_SENDER 2

/* A pbuf header and a full frame with room for lwIP's headroom, rounded up. */
#define ELEMENT_FLOOR 2048

void *memp_malloc(memp_t type) {
  size_t size = memp_pools[type]->size;
  if (size < ELEMENT_FLOOR) size = ELEMENT_FLOOR;
  return malloc(size);
}

static struct netif tap;
static sys_sem_t started;
static int direct;
static char pattern[65536];

struct conn {
  struct tcp_pcb *pcb;
  struct pbuf *pending; /* echo: received and not yet written back */
  int kind;
  int closing;
};

static void conn_close(struct conn *c) {
  tcp_arg(c->pcb, NULL);
  tcp_recv(c->pcb, NULL);
  tcp_sent(c->pcb, NULL);
  tcp_err(c->pcb, NULL);
  if (tcp_close(c->pcb) != ERR_OK) tcp_abort(c->pcb);
  if (c->pending != NULL) pbuf_free(c->pending);
  free(c);
}

/* Echo: writes back what fits in the send buffer and opens the window by as much. */
static void echo_flush(struct conn *c) {
  while (c->pending != NULL) {
    u16_t room = tcp_sndbuf(c->pcb);
    u16_t n = c->pending->len < room ? c->pending->len : room;
    if (n == 0) break;
    if (tcp_write(c->pcb, c->pending->payload, n, TCP_WRITE_FLAG_COPY) != ERR_OK) break;
    c->pending = pbuf_free_header(c->pending, n);
    tcp_recved(c->pcb, n);
  }
  tcp_output(c->pcb);
  if (c->pending == NULL && c->closing) conn_close(c);
}

static void sender_fill(struct conn *c) {
  for (;;) {
    u16_t room = tcp_sndbuf(c->pcb);
    if (room < TCP_MSS) break;
    /* No copy: the segments point into the constant pattern. */
    if (tcp_write(c->pcb, pattern, room, TCP_WRITE_FLAG_MORE) != ERR_OK) break;
  }
  tcp_output(c->pcb);
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
  struct conn *c = arg;
  (void)pcb;
  (void)len;
  if (c == NULL) return ERR_OK;
  if (c->kind == SERVICE_ECHO) echo_flush(c);
  else if (c->kind == SERVICE_SENDER) sender_fill(c);
  return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  struct conn *c = arg;
  (void)err;
  if (c == NULL) {
    if (p != NULL) pbuf_free(p);
    return ERR_OK;
  }
  if (p == NULL) {
    c->closing = 1;
    if (c->kind == SERVICE_ECHO && c->pending != NULL) return ERR_OK;
    conn_close(c);
    return ERR_OK;
  }
  if (c->kind == SERVICE_ECHO) {
    if (c->pending == NULL) c->pending = p;
    else pbuf_cat(c->pending, p);
    echo_flush(c);
  } else {
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
  }
  return ERR_OK;
}

static void on_err(void *arg, err_t err) {
  struct conn *c = arg;
  (void)err;
  /* The pcb is already gone. */
  if (c == NULL) return;
  if (c->pending != NULL) pbuf_free(c->pending);
  free(c);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
  if (err != ERR_OK || pcb == NULL) return ERR_VAL;
  struct conn *c = calloc(1, sizeof *c);
  if (c == NULL) return ERR_MEM;
  c->pcb = pcb;
  c->kind = (int)(intptr_t)arg;
  tcp_arg(pcb, c);
  tcp_recv(pcb, on_recv);
  tcp_sent(pcb, on_sent);
  tcp_err(pcb, on_err);
  tcp_nagle_disable(pcb);
  if (c->kind == SERVICE_SENDER) sender_fill(c);
  return ERR_OK;
}

static void tcp_service(u16_t port, int kind) {
  struct tcp_pcb *pcb = tcp_new();
  if (pcb == NULL || tcp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK) {
    fprintf(stderr, "lwip-peer: cannot bind TCP port %u\n", port);
    exit(1);
  }
  pcb = tcp_listen(pcb);
  tcp_arg(pcb, (void *)(intptr_t)kind);
  tcp_accept(pcb, on_accept);
}

static void udp_echo(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                     u16_t port) {
  (void)arg;
  udp_sendto(pcb, p, addr, port);
  pbuf_free(p);
}

/* Direct mode: the TAP thread runs the input under the core lock instead of queueing it. */
static err_t input_direct(struct pbuf *p, struct netif *netif) {
  LOCK_TCPIP_CORE();
  err_t err = ethernet_input(p, netif);
  UNLOCK_TCPIP_CORE();
  return err;
}

static void start(void *arg) {
  (void)arg;
  ip4_addr_t address, mask, gateway;
  IP4_ADDR(&address, 192, 0, 2, 2);
  IP4_ADDR(&mask, 255, 255, 255, 0);
  IP4_ADDR(&gateway, 192, 0, 2, 1);
  if (netif_add(&tap, &address, &mask, &gateway, NULL, tapif_init,
                direct ? input_direct : tcpip_input) == NULL) {
    fprintf(stderr, "lwip-peer: tapif_init failed\n");
    exit(1);
  }
  netif_set_default(&tap);
  netif_set_up(&tap);
  netif_set_link_up(&tap);
  tcp_service(7, SERVICE_ECHO);
  tcp_service(9, SERVICE_DISCARD);
  tcp_service(19, SERVICE_SENDER);
  struct udp_pcb *udp = udp_new();
  udp_bind(udp, IP_ANY_TYPE, 7);
  udp_recv(udp, udp_echo, NULL);
  sys_sem_signal(&started);
}

int main(int argc, char **argv) {
  direct = argc > 1 && strcmp(argv[1], "direct") == 0;
  if (getenv("PRECONFIGURED_TAPIF") == NULL) {
    fprintf(stderr, "lwip-peer: set PRECONFIGURED_TAPIF to the TAP's name\n");
    return 2;
  }
  memset(pattern, 0x5a, sizeof pattern);
  signal(SIGPIPE, SIG_IGN);
  sys_sem_new(&started, 0);
  tcpip_init(start, NULL);
  sys_sem_wait(&started);
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
