# Linux socket calls driven by JSON lines on stdin, one JSON answer per line on stdout: the
# differential suite's kernel side. Calls go straight to libc through ctypes, so the caller's
# bytes (sockaddrs, option values, ifreq) reach the kernel exactly as given, short lengths too.
import ctypes, json, sys, time, select

libc = ctypes.CDLL(None, use_errno=True)
c_buf = ctypes.create_string_buffer


class Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class Msghdr(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
        ("iov", ctypes.POINTER(Iovec)), ("iovlen", ctypes.c_size_t),
        ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
        ("flags", ctypes.c_int),
    ]


class Ifconf(ctypes.Structure):
    _fields_ = [("len", ctypes.c_int), ("buf", ctypes.c_void_p)]


def res(r):
    return -ctypes.get_errno() if r < 0 else r


def raw(hexs):
    b = bytes.fromhex(hexs)
    return c_buf(b, len(b)), len(b)


fds = {}


def run(c):
    op = c["op"]
    if op == "sleep":
        time.sleep(c["ms"] / 1000)
        return {"r": 0}
    if op == "socket":
        return {"r": res(libc.socket(c["family"], c["type"], c.get("protocol", 0)))}
    fd = c["fd"]
    if op in ("bind", "connect"):
        b, n = raw(c["addr"])
        return {"r": res(getattr(libc, op)(fd, b, ctypes.c_uint32(c.get("len", n))))}
    if op == "listen":
        return {"r": res(libc.listen(fd, c.get("backlog", 8)))}
    if op == "accept":
        cap = c.get("cap", 128)
        b = c_buf(max(cap, 1))
        n = ctypes.c_uint32(cap)
        r = res(libc.accept4(fd, b, ctypes.byref(n), c.get("flags", 0)))
        return {"r": r, "addr": b.raw[: min(cap, n.value)].hex() if r >= 0 else "", "alen": n.value if r >= 0 else 0}
    if op == "recv":
        size = c.get("len", 64)
        data = c_buf(max(size, 1))
        cap = c.get("cap", 128)
        name = c_buf(max(cap, 1))
        iov = Iovec(ctypes.cast(data, ctypes.c_void_p), size)
        control = c_buf(64)
        m = Msghdr(ctypes.cast(name, ctypes.c_void_p), cap, ctypes.pointer(iov), 1,
                   ctypes.cast(control, ctypes.c_void_p), 64, 0)
        r = res(libc.recvmsg(fd, ctypes.byref(m), c.get("flags", 0)))
        out = {"r": r}
        if r >= 0:
            out["data"] = data.raw[: min(r, size)].hex()
            out["mflags"] = m.flags
            out["addr"] = name.raw[: min(cap, m.namelen)].hex()
            out["alen"] = m.namelen
            out["ts"] = m.controllen > 0
        return out
    if op == "send":
        b, n = raw(c.get("data", ""))
        if "addr" in c:
            a, an = raw(c["addr"])
            r = libc.sendto(fd, b, n, c.get("flags", 0), a, ctypes.c_uint32(c.get("len", an)))
        else:
            r = libc.sendto(fd, b, n, c.get("flags", 0), None, 0)
        return {"r": res(r)}
    if op == "shutdown":
        return {"r": res(libc.shutdown(fd, c["how"]))}
    if op == "getsockopt":
        cap = c.get("cap", 4)
        b = c_buf(max(cap, 1))
        n = ctypes.c_uint32(cap)
        r = res(libc.getsockopt(fd, c["level"], c["name"], b, ctypes.byref(n)))
        return {"r": r, "val": b.raw[: n.value].hex() if r >= 0 else ""}
    if op == "setsockopt":
        b, n = raw(c["val"])
        return {"r": res(libc.setsockopt(fd, c["level"], c["name"], b, ctypes.c_uint32(c.get("len", n))))}
    if op in ("getsockname", "getpeername"):
        cap = c.get("cap", 128)
        b = c_buf(max(cap, 1))
        n = ctypes.c_uint32(cap)
        r = res(getattr(libc, op)(fd, b, ctypes.byref(n)))
        return {"r": r, "addr": b.raw[: min(cap, n.value)].hex() if r >= 0 else "", "alen": n.value if r >= 0 else 0}
    if op == "ioctl":
        b, n = raw(c["arg"])
        r = res(libc.ioctl(fd, ctypes.c_ulong(c["req"]), b))
        return {"r": r, "arg": b.raw[:n].hex()}
    if op == "ifconf":
        size = c["len"]
        buf = c_buf(max(size, 1))
        ifc = Ifconf(size, None if c.get("null") else ctypes.cast(buf, ctypes.c_void_p).value)
        r = res(libc.ioctl(fd, ctypes.c_ulong(0x8912), ctypes.byref(ifc)))
        return {"r": r, "ifclen": ifc.len, "buf": "" if c.get("null") else buf.raw[: max(ifc.len, 0)].hex()}
    if op == "poll":
        p = select.poll()
        p.register(fd, c["events"])
        got = p.poll(c.get("timeout", 0))
        return {"r": got[0][1] if got else 0}
    if op == "close":
        return {"r": res(libc.close(fd))}
    return {"r": "unknown op " + op}


for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    try:
        out = run(json.loads(line))
    except Exception as e:  # a broken step is a result the other side cannot match
        out = {"r": "error " + repr(e)}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
