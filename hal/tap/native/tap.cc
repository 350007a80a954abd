// The Linux TAP link for Node: attach a TAP device, read and write frames synchronously into the
// caller's bytes, in batches, and signal readability from Node's own event loop.
//
// Why native: Node cannot issue TUNSETIFF. Why this shape: one uv_poll per device tells JS "frames
// are waiting" once per readiness event, and JS moves frames with readBatch()/writeBatch(): one JS
// entry for every frame waiting (or every frame of an output pass) into or out of slots the caller
// names with typed arrays of offsets and lengths, so nothing is allocated per frame or per call. A
// TAP fd takes one frame per write() (writev would join iovecs into one frame), so a batch is a
// loop of syscalls inside one call. Every call returns a count or -errno; nothing throws.
//
// The same addon gives the Node driver its wake-ups without a JS object per wake: a ticker is two
// uv_timers made once, one started with no delay (a "poll soon" on the next loop turn) and one for
// the next deadline, whose callbacks enter JS through persistent references. setImmediate and
// setTimeout make an Immediate or a Timeout object per call instead. (A uv_async for the wake was
// measured to cost about 56 bytes of JS heap per wake inside Node; a zero-delay timer costs none.)
#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <unordered_map>

namespace {

// Flags passed to a watch callback.
constexpr uint32_t kReadable = 1;
constexpr uint32_t kWritable = 2;

struct Watch {
  uv_poll_t handle;
  napi_env env;
  napi_ref callback;
  // nullptr when no target was given: the callback then runs with `this` = globalThis.
  napi_ref target;
  napi_async_context context;
};

void FreeWatch(uv_handle_t* handle) { delete static_cast<Watch*>(handle->data); }

// Calls `callback` with `this` = target (globalThis when targetRef is nullptr: a callback's
// receiver must be an object, and a primitive one made it fail silently) and up to one uint32
// argument, on a fresh handle scope. References, scope and a small integer allocate nothing on
// the JS heap. A throwing callback has no JS caller to land in: it is reported as uncaught, as a
// timer's would be.
void CallBack(napi_env env, napi_async_context context, napi_ref callbackRef, napi_ref targetRef,
              int argc, uint32_t arg) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value callback;
  napi_value target;
  napi_value argv[1];
  napi_value result;
  bool ok = napi_get_reference_value(env, callbackRef, &callback) == napi_ok;
  if (ok) {
    ok = targetRef != nullptr ? napi_get_reference_value(env, targetRef, &target) == napi_ok
                              : napi_get_global(env, &target) == napi_ok;
  }
  if (ok && argc > 0) ok = napi_create_uint32(env, arg, &argv[0]) == napi_ok;
  if (ok) napi_make_callback(env, context, target, callback, argc, argv, &result);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
}

void DeliverReady(uv_poll_t* handle, int status, int events) {
  Watch* watch = static_cast<Watch*>(handle->data);
  // On error (status < 0) JS is told the fd is readable: its next read() returns the -errno.
  uint32_t flags = 0;
  if (status < 0 || (events & UV_READABLE) != 0) flags |= kReadable;
  if (status >= 0 && (events & UV_WRITABLE) != 0) {
    // Writability is asked for once, after a write found no room: stop watching for it.
    flags |= kWritable;
    uv_poll_start(handle, UV_READABLE, DeliverReady);
  }
  CallBack(watch->env, watch->context, watch->callback, watch->target, 1, flags);
}

// A driver's wake-up source: `wake` fires on the next loop turn however often it was started
// before, `timer` fires once at the armed deadline. Both are made once and reused; a stopped
// timer does not hold the loop, so an idle ticker never keeps the process alive.
struct Ticker {
  uv_timer_t wake;
  uv_timer_t timer;
  napi_env env;
  napi_ref onWake;
  napi_ref onTimer;
  napi_ref target;
  napi_async_context context;
  // Whether an armed timer may keep the process alive.
  bool refTimer;
  // Handles still to be closed before the ticker is freed.
  int open;
};

void FreeTickerHandle(uv_handle_t* handle) {
  Ticker* ticker = static_cast<Ticker*>(handle->data);
  if (--ticker->open == 0) delete ticker;
}

void TickerWake(uv_timer_t* handle) {
  Ticker* ticker = static_cast<Ticker*>(handle->data);
  CallBack(ticker->env, ticker->context, ticker->onWake, ticker->target, 0, 0);
}

void TickerTimer(uv_timer_t* handle) {
  Ticker* ticker = static_cast<Ticker*>(handle->data);
  CallBack(ticker->env, ticker->context, ticker->onTimer, ticker->target, 0, 0);
}

bool ToInt64(napi_env env, napi_value value, int64_t* out) {
  return napi_get_value_int64(env, value, out) == napi_ok;
}

// The bytes [offset, offset + count) of a Uint8Array argument, or nullptr when out of range.
uint8_t* Span(napi_env env, napi_value array, napi_value offsetValue, napi_value countValue,
              size_t* count) {
  napi_typedarray_type type;
  size_t length;
  void* data;
  int64_t offset;
  int64_t wanted;
  bool isTyped = false;
  if (napi_is_typedarray(env, array, &isTyped) != napi_ok || !isTyped) return nullptr;
  if (napi_get_typedarray_info(env, array, &type, &length, &data, nullptr, nullptr) != napi_ok)
    return nullptr;
  if (type != napi_uint8_array || !ToInt64(env, offsetValue, &offset) ||
      !ToInt64(env, countValue, &wanted))
    return nullptr;
  if (offset < 0 || wanted < 0 || static_cast<uint64_t>(offset) > length ||
      static_cast<uint64_t>(wanted) > length - static_cast<uint64_t>(offset))
    return nullptr;
  *count = static_cast<size_t>(wanted);
  return static_cast<uint8_t*>(data) + offset;
}

// A typed array argument of the given type: its data and element count, or nullptr.
void* TypedData(napi_env env, napi_value value, napi_typedarray_type want, size_t* length) {
  bool isTyped = false;
  napi_typedarray_type type;
  void* data;
  if (napi_is_typedarray(env, value, &isTyped) != napi_ok || !isTyped) return nullptr;
  if (napi_get_typedarray_info(env, value, &type, length, &data, nullptr, nullptr) != napi_ok ||
      type != want)
    return nullptr;
  return data;
}

// CLOCK_MONOTONIC in whole milliseconds.
int64_t MonotonicMs() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

class TapAddon : public Napi::Addon<TapAddon> {
 public:
  TapAddon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports, {
                             InstanceMethod("open", &TapAddon::Open),
                             InstanceMethod("read", &TapAddon::Read),
                             InstanceMethod("write", &TapAddon::Write),
                             InstanceMethod("readBatch", &TapAddon::ReadBatch),
                             InstanceMethod("writeBatch", &TapAddon::WriteBatch),
                             InstanceMethod("nowMs", &TapAddon::NowMs),
                             InstanceMethod("watch", &TapAddon::Watch),
                             InstanceMethod("watchWritable", &TapAddon::WatchWritable),
                             InstanceMethod("unwatch", &TapAddon::Unwatch),
                             InstanceMethod("close", &TapAddon::Close),
                             InstanceMethod("tickerOpen", &TapAddon::TickerOpen),
                             InstanceMethod("tickerWake", &TapAddon::TickerWakeCall),
                             InstanceMethod("tickerArm", &TapAddon::TickerArm),
                             InstanceMethod("tickerClose", &TapAddon::TickerClose),
                             InstanceMethod("ringOpen", &TapAddon::RingOpen),
                             InstanceMethod("ringBuffer", &TapAddon::RingBuffer),
                             InstanceMethod("ringSend", &TapAddon::RingSend),
                             InstanceMethod("ringClose", &TapAddon::RingClose),
                         });
    napi_get_uv_event_loop(env, &loop_);
    clockBase_ = MonotonicMs();
  }

  // The environment is going away (process or worker exit): release every device it still held.
  ~TapAddon() {
    for (auto& entry : watches_) {
      uv_poll_stop(&entry.second->handle);
      uv_close(reinterpret_cast<uv_handle_t*>(&entry.second->handle), FreeWatch);
      ::close(entry.first);
    }
    for (auto& entry : rings_) munmap(entry.second.base, entry.second.size);
    // References die with the environment; only the loop's handles need closing.
    for (auto& entry : tickers_) CloseTickerHandles(entry.second);
  }

 private:
  static Napi::Value Result(Napi::Env env, int64_t value) {
    return Napi::Number::New(env, static_cast<double>(value));
  }

  // open(name, nsPid?) -> fd or -errno. With nsPid, the device is created inside the network
  // namespace of that process; the calling thread returns to its own namespace before returning.
  Napi::Value Open(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    char name[IFNAMSIZ];
    size_t nameLength = 0;
    if (info.Length() < 1 || napi_get_value_string_utf8(env, info[0], name, sizeof name,
                                                         &nameLength) != napi_ok)
      return Result(env, -EINVAL);
    if (nameLength >= IFNAMSIZ - 1) {
      // The buffer holds IFNAMSIZ - 1 characters; a longer name would have been cut short.
      size_t fullLength = 0;
      napi_get_value_string_utf8(env, info[0], nullptr, 0, &fullLength);
      if (fullLength >= IFNAMSIZ) return Result(env, -EINVAL);
    }
    int64_t nsPid = 0;
    bool inNamespace = info.Length() >= 2 && !info[1].IsUndefined() && !info[1].IsNull();
    if (inNamespace && (!ToInt64(env, info[1], &nsPid) || nsPid <= 0))
      return Result(env, -EINVAL);

    int home = -1;
    if (inNamespace) {
      char path[64];
      snprintf(path, sizeof path, "/proc/%lld/ns/net", static_cast<long long>(nsPid));
      int target = ::open(path, O_RDONLY | O_CLOEXEC);
      if (target < 0) return Result(env, -errno);
      home = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
      if (home < 0) {
        int error = errno;
        ::close(target);
        return Result(env, -error);
      }
      int entered = setns(target, CLONE_NEWNET);
      int error = errno;
      ::close(target);
      if (entered < 0) {
        ::close(home);
        return Result(env, -error);
      }
    }

    int result = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (result < 0) {
      result = -errno;
    } else {
      // No IFF_VNET_HDR and no offloads: every read is exactly one Ethernet frame.
      struct ifreq request;
      memset(&request, 0, sizeof request);
      request.ifr_flags = IFF_TAP | IFF_NO_PI;
      memcpy(request.ifr_name, name, nameLength);
      if (ioctl(result, TUNSETIFF, &request) < 0) {
        int error = errno;
        ::close(result);
        result = -error;
      }
    }

    if (home >= 0) {
      // Staying in the lab's namespace would silently move every later socket of this thread.
      if (setns(home, CLONE_NEWNET) < 0)
        Napi::Error::Fatal("tap.open", "cannot return to the original network namespace");
      ::close(home);
    }
    return Result(env, result);
  }

  // read(fd, u8, offset, capacity) -> frame length, 0 when none waits, or -errno. A frame longer
  // than capacity is cut to capacity and its full length returned: the tail lands in a scratch
  // area (a second iovec), since a TAP read otherwise reports only what it copied.
  Napi::Value Read(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    int64_t fd;
    size_t capacity;
    if (info.Length() < 4 || !ToInt64(env, info[0], &fd)) return Result(env, -EBADF);
    uint8_t* into = Span(env, info[1], info[2], info[3], &capacity);
    if (into == nullptr) return Result(env, -EINVAL);
    struct iovec parts[2] = {{into, capacity}, {overflow_, sizeof overflow_}};
    ssize_t n = readv(static_cast<int>(fd), parts, 2);
    if (n >= 0) return Result(env, n);
    return Result(env, errno == EAGAIN ? 0 : -errno);
  }

  // write(fd, u8, offset, length) -> bytes written or -errno.
  Napi::Value Write(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    int64_t fd;
    size_t length;
    if (info.Length() < 4 || !ToInt64(env, info[0], &fd)) return Result(env, -EBADF);
    const uint8_t* from = Span(env, info[1], info[2], info[3], &length);
    if (from == nullptr) return Result(env, -EINVAL);
    ssize_t n = ::write(static_cast<int>(fd), from, length);
    return Result(env, n >= 0 ? n : -errno);
  }

  // readBatch(fd, u8, offsets, lengths, count, capacity) -> frames read, 0 when none waits, or
  // -errno when the first read fails. Frame i goes to u8[offsets[i] ..+ capacity) and its full
  // length to lengths[i] (cut short as read() does). One call drains up to `count` frames, so a
  // burst costs one JS entry; it stops at the first read that finds nothing (or fails: that error
  // is reported by the next call, which meets it first).
  Napi::Value ReadBatch(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    int64_t fd;
    int64_t count;
    int64_t capacity;
    size_t byteLength;
    size_t offsetCount;
    size_t lengthCount;
    if (info.Length() < 6 || !ToInt64(env, info[0], &fd)) return Result(env, -EBADF);
    uint8_t* bytes = static_cast<uint8_t*>(TypedData(env, info[1], napi_uint8_array, &byteLength));
    int32_t* offsets = static_cast<int32_t*>(TypedData(env, info[2], napi_int32_array, &offsetCount));
    int32_t* lengths = static_cast<int32_t*>(TypedData(env, info[3], napi_int32_array, &lengthCount));
    if (bytes == nullptr || offsets == nullptr || lengths == nullptr ||
        !ToInt64(env, info[4], &count) || !ToInt64(env, info[5], &capacity) || count < 0 ||
        capacity < 0 || static_cast<uint64_t>(count) > offsetCount ||
        static_cast<uint64_t>(count) > lengthCount || static_cast<uint64_t>(capacity) > byteLength)
      return Result(env, -EINVAL);
    int64_t n = 0;
    for (; n < count; n++) {
      int64_t at = offsets[n];
      if (at < 0 || static_cast<uint64_t>(at) > byteLength - static_cast<uint64_t>(capacity)) {
        if (n == 0) return Result(env, -EINVAL);
        break;
      }
      struct iovec parts[2] = {{bytes + at, static_cast<size_t>(capacity)},
                               {overflow_, sizeof overflow_}};
      ssize_t got = readv(static_cast<int>(fd), parts, 2);
      if (got < 0) {
        if (n == 0 && errno != EAGAIN) return Result(env, -errno);
        break;
      }
      lengths[n] = static_cast<int32_t>(got);
    }
    return Result(env, n);
  }

  // writeBatch(fd, u8, offsets, lengths, count) -> frames dealt with, from the first: written, or
  // refused for good (lengths[i] then holds -errno, or -EIO for a short write). Fewer than count
  // means the kernel could not take the next one now (EAGAIN, ENOBUFS): it and those after it
  // are still to send. A TAP write carries exactly one frame (writev would join them into one),
  // so this loops write(); what it saves is a JS entry per frame.
  Napi::Value WriteBatch(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    int64_t fd;
    int64_t count;
    size_t byteLength;
    size_t offsetCount;
    size_t lengthCount;
    if (info.Length() < 5 || !ToInt64(env, info[0], &fd)) return Result(env, -EBADF);
    uint8_t* bytes = static_cast<uint8_t*>(TypedData(env, info[1], napi_uint8_array, &byteLength));
    int32_t* offsets = static_cast<int32_t*>(TypedData(env, info[2], napi_int32_array, &offsetCount));
    int32_t* lengths = static_cast<int32_t*>(TypedData(env, info[3], napi_int32_array, &lengthCount));
    if (bytes == nullptr || offsets == nullptr || lengths == nullptr ||
        !ToInt64(env, info[4], &count) || count < 0 ||
        static_cast<uint64_t>(count) > offsetCount || static_cast<uint64_t>(count) > lengthCount)
      return Result(env, -EINVAL);
    int64_t n = 0;
    for (; n < count; n++) {
      int64_t at = offsets[n];
      int64_t length = lengths[n];
      if (at < 0 || length < 0 || static_cast<uint64_t>(at) > byteLength ||
          static_cast<uint64_t>(length) > byteLength - static_cast<uint64_t>(at)) {
        lengths[n] = -EINVAL;
        continue;
      }
      ssize_t put = ::write(static_cast<int>(fd), bytes + at, static_cast<size_t>(length));
      if (put < 0) {
        if (errno == EAGAIN || errno == ENOBUFS) break;
        lengths[n] = -errno;
      } else if (put != length) {
        lengths[n] = -EIO;
      }
    }
    return Result(env, n);
  }

  // nowMs() -> CLOCK_MONOTONIC in whole milliseconds since the addon loaded: an int32, which V8
  // keeps as a small integer, for the first 2^31 ms (24.8 days); later a double (a heap number per
  // call), never wrapping, since deadlines are compared as plain numbers.
  Napi::Value NowMs(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    int64_t elapsed = MonotonicMs() - clockBase_;
    napi_value result;
    if (elapsed <= INT32_MAX)
      napi_create_int32(env, static_cast<int32_t>(elapsed), &result);
    else
      napi_create_double(env, static_cast<double>(elapsed), &result);
    return Napi::Value(env, result);
  }

  // watch(fd, callback, target?) -> 0 or -errno. Calls callback(flags) (with `this` = target, or
  // globalThis) once per readiness event on Node's main loop, flags 1 = readable, 2 = writable (only
  // after watchWritable); a watched fd keeps the loop alive, an unwatched one not.
  Napi::Value Watch(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    int64_t fd;
    if (info.Length() < 2 || !ToInt64(env, info[0], &fd) || fd < 0) return Result(env, -EBADF);
    if (!info[1].IsFunction()) return Result(env, -EINVAL);
    if (watches_.count(static_cast<int>(fd)) != 0) return Result(env, -EBUSY);
    // A reference can only hold an object (N-API 8), so no target is kept as no reference.
    bool hasTarget = info.Length() >= 3 && info[2].IsObject();

    ::Watch* watch = new ::Watch();
    watch->env = env;
    watch->handle.data = watch;
    int status = uv_poll_init(loop_, &watch->handle, static_cast<int>(fd));
    if (status < 0) {
      delete watch;
      return Result(env, status);  // libuv errors are already -errno on Linux
    }
    napi_value resourceName;
    napi_create_string_utf8(env, "TapDevice", NAPI_AUTO_LENGTH, &resourceName);
    napi_async_init(env, nullptr, resourceName, &watch->context);
    napi_create_reference(env, info[1], 1, &watch->callback);
    watch->target = nullptr;
    if (hasTarget) napi_create_reference(env, info[2], 1, &watch->target);
    status = uv_poll_start(&watch->handle, UV_READABLE, DeliverReady);
    if (status < 0) {
      Release(watch);
      return Result(env, status);
    }
    watches_[static_cast<int>(fd)] = watch;
    return Result(env, 0);
  }

  // watchWritable(fd) -> 0 or -errno: the watch calls back once with the writable flag when the fd
  // can take a write again, then goes back to readability alone.
  Napi::Value WatchWritable(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    int64_t fd;
    if (info.Length() < 1 || !ToInt64(env, info[0], &fd)) return Result(env, -EBADF);
    auto found = watches_.find(static_cast<int>(fd));
    if (found == watches_.end()) return Result(env, -ENOENT);
    return Result(env, uv_poll_start(&found->second->handle, UV_READABLE | UV_WRITABLE,
                                     DeliverReady));
  }

  Napi::Value Unwatch(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    int64_t fd;
    if (info.Length() < 1 || !ToInt64(env, info[0], &fd)) return Result(env, -EBADF);
    return Result(env, StopWatching(static_cast<int>(fd)) ? 0 : -ENOENT);
  }

  // close(fd) -> 0 or -errno; stops watching first so the poll never sees a reused fd.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    int64_t fd;
    if (info.Length() < 1 || !ToInt64(env, info[0], &fd) || fd < 0) return Result(env, -EBADF);
    StopWatching(static_cast<int>(fd));
    return Result(env, ::close(static_cast<int>(fd)) == 0 ? 0 : -errno);
  }

  bool StopWatching(int fd) {
    auto found = watches_.find(fd);
    if (found == watches_.end()) return false;
    ::Watch* watch = found->second;
    watches_.erase(found);
    uv_poll_stop(&watch->handle);
    Release(watch);
    return true;
  }

  static void Release(::Watch* watch) {
    napi_delete_reference(watch->env, watch->callback);
    if (watch->target != nullptr) napi_delete_reference(watch->env, watch->target);
    napi_async_destroy(watch->env, watch->context);
    uv_close(reinterpret_cast<uv_handle_t*>(&watch->handle), FreeWatch);
  }

  // An AF_PACKET socket with TPACKET_V2 rings mapped into this process: the second host device.
  // The kernel writes received frames into the receive ring and JS takes them from the mapping
  // with no syscall per frame; JS writes frames into the transmit ring and one ringSend() hands
  // the kernel every frame marked since. Slot layout and status words are the kernel's
  // (linux/if_packet.h); JS reads and writes them through ringBuffer().
  struct Ring {
    void* base;
    size_t size;
  };

  // ringOpen(name, nsPid, frameSize, rxFrames, txFrames) -> fd or -errno. The socket is made in
  // nsPid's namespace and bound to interface `name` there; both rings hold frameSize-byte slots
  // (a power of two, 2048 or more), the receive ring first in the mapping.
  Napi::Value RingOpen(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    char name[IFNAMSIZ];
    size_t nameLength = 0;
    int64_t nsPid = 0, frameSize = 0, rxFrames = 0, txFrames = 0;
    if (info.Length() < 5 ||
        napi_get_value_string_utf8(env, info[0], name, sizeof name, &nameLength) != napi_ok ||
        nameLength >= IFNAMSIZ - 1 || !ToInt64(env, info[1], &nsPid) || nsPid <= 0 ||
        !ToInt64(env, info[2], &frameSize) || !ToInt64(env, info[3], &rxFrames) ||
        !ToInt64(env, info[4], &txFrames))
      return Result(env, -EINVAL);
    constexpr int64_t kBlock = 1 << 16;
    if (frameSize < 2048 || frameSize > kBlock || (frameSize & (frameSize - 1)) != 0 ||
        rxFrames < 1 || txFrames < 1 || rxFrames > 65536 || txFrames > 65536)
      return Result(env, -EINVAL);
    int64_t perBlock = kBlock / frameSize;
    // Whole blocks: round the frame counts up.
    int64_t rxBlocks = (rxFrames + perBlock - 1) / perBlock;
    int64_t txBlocks = (txFrames + perBlock - 1) / perBlock;

    char path[64];
    snprintf(path, sizeof path, "/proc/%lld/ns/net", static_cast<long long>(nsPid));
    int target = ::open(path, O_RDONLY | O_CLOEXEC);
    if (target < 0) return Result(env, -errno);
    int home = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) {
      int error = errno;
      ::close(target);
      return Result(env, -error);
    }
    int entered = setns(target, CLONE_NEWNET);
    int error = errno;
    ::close(target);
    if (entered < 0) {
      ::close(home);
      return Result(env, -error);
    }
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    int result = fd < 0 ? -errno : 0;
    void* base = MAP_FAILED;
    size_t size = 0;
    if (result == 0) {
      struct ifreq request;
      memset(&request, 0, sizeof request);
      memcpy(request.ifr_name, name, nameLength);
      int version = TPACKET_V2, one = 1;
      struct tpacket_req rx = {static_cast<unsigned>(kBlock), static_cast<unsigned>(rxBlocks),
                               static_cast<unsigned>(frameSize),
                               static_cast<unsigned>(rxBlocks * perBlock)};
      struct tpacket_req tx = {static_cast<unsigned>(kBlock), static_cast<unsigned>(txBlocks),
                               static_cast<unsigned>(frameSize),
                               static_cast<unsigned>(txBlocks * perBlock)};
      if (ioctl(fd, SIOCGIFINDEX, &request) < 0 ||
          setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0 ||
          // Our own frames would otherwise come back to us in the receive ring.
          setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0 ||
          setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0 ||
          setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &rx, sizeof rx) < 0 ||
          setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &tx, sizeof tx) < 0) {
        result = -errno;
      } else {
        size = static_cast<size_t>((rxBlocks + txBlocks) * kBlock);
        base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        struct sockaddr_ll at;
        memset(&at, 0, sizeof at);
        at.sll_family = AF_PACKET;
        at.sll_protocol = htons(ETH_P_ALL);
        at.sll_ifindex = request.ifr_ifindex;
        if (base == MAP_FAILED ||
            bind(fd, reinterpret_cast<struct sockaddr*>(&at), sizeof at) < 0)
          result = -errno;
      }
      if (result < 0) {
        if (base != MAP_FAILED) munmap(base, size);
        ::close(fd);
      }
    }
    if (setns(home, CLONE_NEWNET) < 0)
      Napi::Error::Fatal("tap.ringOpen", "cannot return to the original network namespace");
    ::close(home);
    if (result < 0) return Result(env, result);
    rings_[fd] = Ring{base, size};
    return Result(env, fd);
  }

  // ringBuffer(fd) -> the mapping as an ArrayBuffer (receive ring, then transmit ring), or
  // -errno. It stays valid until ringClose(fd); touching it afterwards would fault.
  Napi::Value RingBuffer(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    int64_t fd;
    if (info.Length() < 1 || !ToInt64(env, info[0], &fd)) return Result(env, -EBADF);
    auto found = rings_.find(static_cast<int>(fd));
    if (found == rings_.end()) return Result(env, -ENOENT);
    napi_value buffer;
    if (napi_create_external_arraybuffer(env, found->second.base, found->second.size, nullptr,
                                         nullptr, &buffer) != napi_ok)
      return Result(env, -ENOMEM);
    return Napi::Value(env, buffer);
  }

  // ringSend(fd) -> bytes handed to the kernel or -errno: every transmit slot marked
  // TP_STATUS_SEND_REQUEST goes out in this one call.
  Napi::Value RingSend(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    int64_t fd;
    if (info.Length() < 1 || !ToInt64(env, info[0], &fd)) return Result(env, -EBADF);
    ssize_t sent = send(static_cast<int>(fd), nullptr, 0, MSG_DONTWAIT);
    return Result(env, sent < 0 ? -errno : sent);
  }

  // ringClose(fd) -> 0 or -errno: stops watching, unmaps and closes.
  Napi::Value RingClose(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    int64_t fd;
    if (info.Length() < 1 || !ToInt64(env, info[0], &fd) || fd < 0) return Result(env, -EBADF);
    auto found = rings_.find(static_cast<int>(fd));
    if (found == rings_.end()) return Result(env, -ENOENT);
    StopWatching(static_cast<int>(fd));
    munmap(found->second.base, found->second.size);
    rings_.erase(found);
    return Result(env, ::close(static_cast<int>(fd)) == 0 ? 0 : -errno);
  }

  // tickerOpen(onWake, onTimer, target, refTimer) -> ticker id (>= 0) or -errno. Neither handle
  // keeps the loop alive while idle; a pending wake always does, an armed timer when refTimer.
  Napi::Value TickerOpen(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    if (info.Length() < 4 || !info[0].IsFunction() || !info[1].IsFunction() ||
        !info[2].IsObject())
      return Result(env, -EINVAL);
    Ticker* ticker = new Ticker();
    ticker->env = env;
    ticker->refTimer = info[3].ToBoolean().Value();
    ticker->wake.data = ticker;
    ticker->timer.data = ticker;
    uv_timer_init(loop_, &ticker->wake);
    uv_timer_init(loop_, &ticker->timer);
    ticker->open = 2;
    if (!ticker->refTimer) uv_unref(reinterpret_cast<uv_handle_t*>(&ticker->timer));
    napi_value resourceName;
    napi_create_string_utf8(env, "NodeDriver", NAPI_AUTO_LENGTH, &resourceName);
    napi_async_init(env, nullptr, resourceName, &ticker->context);
    napi_create_reference(env, info[0], 1, &ticker->onWake);
    napi_create_reference(env, info[1], 1, &ticker->onTimer);
    napi_create_reference(env, info[2], 1, &ticker->target);
    int id = nextTicker_++;
    tickers_[id] = ticker;
    return Result(env, id);
  }

  // tickerWake(id) -> 0 or -errno: onWake runs on the next loop turn; wakes before it coalesce.
  Napi::Value TickerWakeCall(const Napi::CallbackInfo& info) {
    Ticker* ticker = FindTicker(info);
    if (ticker == nullptr) return Result(info.Env(), -ENOENT);
    // Already started: the pending wake covers this one too.
    if (uv_is_active(reinterpret_cast<uv_handle_t*>(&ticker->wake))) return Result(info.Env(), 0);
    return Result(info.Env(), uv_timer_start(&ticker->wake, TickerWake, 0, 0));
  }

  // tickerArm(id, delayMs) -> 0 or -errno: onTimer runs once after delayMs (rearming replaces the
  // previous deadline); a negative delay disarms.
  Napi::Value TickerArm(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    Ticker* ticker = FindTicker(info);
    int64_t delay;
    if (ticker == nullptr) return Result(env, -ENOENT);
    if (info.Length() < 2 || !ToInt64(env, info[1], &delay)) return Result(env, -EINVAL);
    if (delay < 0) return Result(env, uv_timer_stop(&ticker->timer));
    return Result(env, uv_timer_start(&ticker->timer, TickerTimer, static_cast<uint64_t>(delay), 0));
  }

  // tickerClose(id) -> 0 or -errno: nothing is called back afterwards.
  Napi::Value TickerClose(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    int64_t id;
    if (info.Length() < 1 || !ToInt64(env, info[0], &id)) return Result(env, -EINVAL);
    auto found = tickers_.find(static_cast<int>(id));
    if (found == tickers_.end()) return Result(env, -ENOENT);
    Ticker* ticker = found->second;
    tickers_.erase(found);
    CloseTicker(ticker);
    return Result(env, 0);
  }

  Ticker* FindTicker(const Napi::CallbackInfo& info) {
    int64_t id;
    if (info.Length() < 1 || !ToInt64(info.Env(), info[0], &id)) return nullptr;
    auto found = tickers_.find(static_cast<int>(id));
    return found == tickers_.end() ? nullptr : found->second;
  }

  static void CloseTicker(Ticker* ticker) {
    napi_delete_reference(ticker->env, ticker->onWake);
    napi_delete_reference(ticker->env, ticker->onTimer);
    napi_delete_reference(ticker->env, ticker->target);
    napi_async_destroy(ticker->env, ticker->context);
    CloseTickerHandles(ticker);
  }

  static void CloseTickerHandles(Ticker* ticker) {
    uv_timer_stop(&ticker->wake);
    uv_timer_stop(&ticker->timer);
    uv_close(reinterpret_cast<uv_handle_t*>(&ticker->wake), FreeTickerHandle);
    uv_close(reinterpret_cast<uv_handle_t*>(&ticker->timer), FreeTickerHandle);
  }

  uv_loop_t* loop_ = nullptr;
  // nowMs() counts from here, so it stays a small integer for weeks.
  int64_t clockBase_ = 0;
  std::unordered_map<int, Ticker*> tickers_;
  int nextTicker_ = 0;
  // Larger than any frame a TAP delivers (64 KiB IP packet plus link headers).
  uint8_t overflow_[65536 + 32];
  std::unordered_map<int, ::Watch*> watches_;
  std::unordered_map<int, Ring> rings_;
};

}  // namespace

NODE_API_ADDON(TapAddon)
