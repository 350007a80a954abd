/*
 * Host side of native/lin/tap.js: a Linux TAP device for the stack inside Moddable's `lin`
 * simulator (mcsim). Opens /dev/net/tun non-blocking, moves one frame per read or write straight
 * between the fd and the caller's byte array, and reports readiness from the simulator's GLib main
 * loop (g_unix_fd_add), so frames reach JS when the fd is readable, without polling.
 *
 * Readiness is one-shot: a readable event removes the read watch and calls the device's
 * tapReady(flags); read() re-arms the watch when it finds the queue empty (EAGAIN). So GLib does not
 * call back again and again while JS has not drained yet, and no frame can arrive unannounced:
 * the watch is level-triggered, a frame that came before re-arming fires it at once. A write the
 * kernel refuses for now (EAGAIN, ENOBUFS) arms a one-shot writable watch the same way.
 *
 * Nothing here allocates per frame: arguments are integers and byte arrays, results are integers,
 * and the buffer pointer is taken after the last call that could allocate.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <net/if.h>
#include <linux/if_tun.h>

#include <glib.h>
#include <glib-unix.h>

#include "xsmc.h"
#include "mc.xs.h"

/* Flags passed to tapReady(); the same values as hal/tap's TAP_READABLE / TAP_WRITABLE. */
#define TAP_READABLE 1
#define TAP_WRITABLE 2

typedef struct {
	xsMachine *the;
	xsSlot device;
	int fd;
	uint8_t watching;
	guint readSource;
	guint writeSource;
} TapRecord, *Tap;

/*
 * Where the tail of a frame longer than the caller's capacity goes, so read() can return the true
 * length (a TAP read reports only what it copied). One per process: the simulator's VM is
 * single-threaded and the bytes are never looked at.
 */
static uint8_t gOverflow[65536];

static gboolean tapReadable(gint fd, GIOCondition condition, gpointer data);
static gboolean tapWritable(gint fd, GIOCondition condition, gpointer data);

static void tapUnwatch(Tap tap)
{
	if (tap->readSource) {
		g_source_remove(tap->readSource);
		tap->readSource = 0;
	}
	if (tap->writeSource) {
		g_source_remove(tap->writeSource);
		tap->writeSource = 0;
	}
}

static void tapArmRead(Tap tap)
{
	if (tap->watching && !tap->readSource && (tap->fd >= 0))
		tap->readSource = g_unix_fd_add(tap->fd, G_IO_IN, tapReadable, tap);
}

static void tapArmWrite(Tap tap)
{
	if (tap->watching && !tap->writeSource && (tap->fd >= 0))
		tap->writeSource = g_unix_fd_add(tap->fd, G_IO_OUT, tapWritable, tap);
}

/* Calls device.tapReady(flags). JS may close the device inside: nothing touches `tap` after. */
static void tapReport(Tap tap, int flags)
{
	xsMachine *the = tap->the;

	xsBeginHost(the);
	xsTry {
		xsCall1(tap->device, xsID_tapReady, xsInteger(flags));
	}
	xsCatch {
	}
	xsEndHost(the);
}

static gboolean tapReadable(gint fd, GIOCondition condition, gpointer data)
{
	Tap tap = data;

	tap->readSource = 0;
	tapReport(tap, TAP_READABLE);
	return G_SOURCE_REMOVE;
}

static gboolean tapWritable(gint fd, GIOCondition condition, gpointer data)
{
	Tap tap = data;

	tap->writeSource = 0;
	tapReport(tap, TAP_WRITABLE);
	return G_SOURCE_REMOVE;
}

static void tapRelease(xsMachine *the, Tap tap)
{
	tapUnwatch(tap);
	if (tap->fd >= 0) {
		close(tap->fd);
		tap->fd = -1;
	}
}

void xs_netstack_tap_destructor(void *data)
{
	Tap tap = data;

	if (!tap)
		return;
	/* Only reached for a handle never closed; its device was forgotten by then or never held. */
	tapUnwatch(tap);
	if (tap->fd >= 0)
		close(tap->fd);
	free(tap);
}

/*
 * new TapHandle(name, device): attaches TAP `name` (IFF_TAP | IFF_NO_PI), creating it if it does
 * not exist (that needs CAP_NET_ADMIN). `device` receives tapReady(flags) and is kept alive until
 * close(). Throws when the device cannot be attached: that is set-up, not a per-frame condition.
 */
void xs_netstack_tap_open(xsMachine *the)
{
	struct ifreq request;
	const char *name;
	size_t length;
	int fd;
	Tap tap;

	name = xsmcToString(xsArg(0));
	length = strlen(name);
	if ((length == 0) || (length >= IFNAMSIZ))
		xsRangeError("tap: a name is 1 to 15 bytes");
	memset(&request, 0, sizeof request);
	memcpy(request.ifr_name, name, length);
	request.ifr_flags = IFF_TAP | IFF_NO_PI;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		xsUnknownError("tap: cannot open /dev/net/tun: %s", strerror(errno));
	if (ioctl(fd, TUNSETIFF, &request) < 0) {
		int error = errno;
		close(fd);
		xsUnknownError("tap: cannot attach %s: %s", name, strerror(error));
	}

	tap = calloc(1, sizeof(TapRecord));
	if (!tap) {
		close(fd);
		xsUnknownError("tap: no memory");
	}
	tap->the = the;
	tap->fd = fd;
	tap->device = xsArg(1);
	xsRemember(tap->device);
	xsmcSetHostData(xsThis, tap);
}

/* read(frame, offset, capacity): the next frame's full length, 0 when none waits, or -errno. */
void xs_netstack_tap_read(xsMachine *the)
{
	Tap tap = xsmcGetHostData(xsThis);
	xsIntegerValue offset = xsmcToInteger(xsArg(1));
	xsIntegerValue capacity = xsmcToInteger(xsArg(2));
	void *data;
	xsUnsignedValue size;
	struct iovec parts[2];
	ssize_t n;

	if (!tap || (tap->fd < 0)) {
		xsmcSetInteger(xsResult, -EBADF);
		return;
	}
	xsmcGetBufferWritable(xsArg(0), &data, &size);
	if ((offset < 0) || (capacity < 0) || ((xsUnsignedValue)offset > size) ||
	    ((xsUnsignedValue)capacity > size - (xsUnsignedValue)offset)) {
		xsmcSetInteger(xsResult, -EINVAL);
		return;
	}
	parts[0].iov_base = (uint8_t *)data + offset;
	parts[0].iov_len = (size_t)capacity;
	parts[1].iov_base = gOverflow;
	parts[1].iov_len = sizeof gOverflow;
	n = readv(tap->fd, parts, 2);
	if (n >= 0) {
		xsmcSetInteger(xsResult, (xsIntegerValue)n);
		return;
	}
	if ((errno == EAGAIN) || (errno == EWOULDBLOCK)) {
		tapArmRead(tap);
		xsmcSetInteger(xsResult, 0);
		return;
	}
	xsmcSetInteger(xsResult, -errno);
}

/*
 * write(frame, offset, length): bytes written, 0 when the kernel cannot take it now (a writable
 * event follows while watching), or -errno when it refuses it for good.
 */
void xs_netstack_tap_write(xsMachine *the)
{
	Tap tap = xsmcGetHostData(xsThis);
	xsIntegerValue offset = xsmcToInteger(xsArg(1));
	xsIntegerValue length = xsmcToInteger(xsArg(2));
	void *data;
	xsUnsignedValue size;
	ssize_t n;

	if (!tap || (tap->fd < 0)) {
		xsmcSetInteger(xsResult, -EBADF);
		return;
	}
	xsmcGetBufferReadable(xsArg(0), &data, &size);
	if ((offset < 0) || (length <= 0) || ((xsUnsignedValue)offset > size) ||
	    ((xsUnsignedValue)length > size - (xsUnsignedValue)offset)) {
		xsmcSetInteger(xsResult, -EINVAL);
		return;
	}
	n = write(tap->fd, (uint8_t *)data + offset, (size_t)length);
	if (n >= 0) {
		xsmcSetInteger(xsResult, (xsIntegerValue)n);
		return;
	}
	if ((errno == EAGAIN) || (errno == EWOULDBLOCK) || (errno == ENOBUFS)) {
		tapArmWrite(tap);
		xsmcSetInteger(xsResult, 0);
		return;
	}
	xsmcSetInteger(xsResult, -errno);
}

/* watch(on): starts (a read watch) or stops (every watch) readiness reports. 0 or -EBADF. */
void xs_netstack_tap_watch(xsMachine *the)
{
	Tap tap = xsmcGetHostData(xsThis);

	if (!tap || (tap->fd < 0)) {
		xsmcSetInteger(xsResult, -EBADF);
		return;
	}
	if (xsmcToBoolean(xsArg(0))) {
		tap->watching = 1;
		tapArmRead(tap);
	}
	else {
		tap->watching = 0;
		tapUnwatch(tap);
	}
	xsmcSetInteger(xsResult, 0);
}

/* close(): stops watching, closes the fd (the kernel drops a non-persistent TAP), lets go of the device. */
void xs_netstack_tap_close(xsMachine *the)
{
	Tap tap = xsmcGetHostData(xsThis);

	if (!tap)
		return;
	tapRelease(the, tap);
	xsForget(tap->device);
	xsmcSetHostData(xsThis, NULL);
	free(tap);
}
