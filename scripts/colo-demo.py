#!/usr/bin/env python3
#
# COLO end to end on one machine, in well under a minute:
#
#   1. start a secondary (-incoming defer) and a primary, both with the
#      x-colo and events capabilities;
#   2. migrate the primary into the secondary; both enter COLO;
#   3. watch several checkpoints go by (query-migrate's colo object on
#      the primary, STOP/RESUME events for the pause);
#   4. kill -9 the primary, tell the secondary x-colo-lost-heartbeat;
#   5. show query-colo-status and that the guest goes on running on the
#      secondary;
#   6. print a summary and remove every process and socket, whatever
#      happened (a failed step, Ctrl-C, SIGTERM).
#
# The guest is the kv service (tests/guest/kv.c) behind the COLO proxy
# (docs/colo.md): a client writes keys through the primary while the
# checkpoints go by, some of its requests are still unanswered when the
# primary is killed, and after the failover it reconnects to the
# secondary, sends them again and reads every key back: every write it
# was told OK about must be there.  With --guest dirtier the guest is the
# dirtier, which prints a 'B' after every pass over its memory.  Guests
# run under KVM when /dev/kvm can be used and under TCG otherwise.
# With --qtest the machines run no guest code: they run under qtest and
# this script plays the guest, writing RAM through the primary's qtest
# socket and reading it back on the secondary after the failover.
#
# Python 3 standard library only.  Exit status: 0 when every step
# succeeded, 1 when one failed (the reason and the VMs' stderr are
# printed), 130 when interrupted.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import argparse
import ctypes
import errno
import fcntl
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

KVM_GET_API_VERSION = 0xAE00
KVM_API_VERSION = 12
PR_SET_PDEATHSIG = 1

# Deadlines are generous: a loaded or nested host is slow, and a step
# that is merely slow should not be reported as broken.
CONNECT_TIMEOUT = 20.0
CMD_TIMEOUT = 30.0
COLO_TIMEOUT = 60.0
CHECKPOINT_TIMEOUT = 30.0
FAILOVER_TIMEOUT = 30.0

MIB = 1024 * 1024


class DemoError(Exception):
    """A step that did not do what it should: ends the demo."""


class DemoTimeout(DemoError):
    """Nothing arrived before a deadline."""


class Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP."""


def on_signal(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


T0 = time.monotonic()


def say(text):
    print("[%6.2fs] %s" % (time.monotonic() - T0, text), flush=True)


def kvm_usable():
    """(True, None) when /dev/kvm opens read-write and speaks API 12."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return False, "cannot open /dev/kvm read-write: %s" % e.strerror
    try:
        version = fcntl.ioctl(fd, KVM_GET_API_VERSION, 0)
    except OSError as e:
        return False, "/dev/kvm does not answer: %s" % e.strerror
    finally:
        os.close(fd)
    if version != KVM_API_VERSION:
        return False, "/dev/kvm speaks API %d, not %d" % (version,
                                                          KVM_API_VERSION)
    return True, None


def die_with_parent():
    """In the child: SIGKILL when this script dies, however it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class LineSocket:
    """A unix stream socket read line by line, every read with a deadline."""

    def __init__(self, path, what, proc):
        self.what = what
        self.buf = b""
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise DemoError("%s: the process exited (status %s) before "
                                "its socket was up" % (what, proc.returncode))
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(path)
                break
            except OSError as e:
                sock.close()
                if e.errno not in (errno.ENOENT, errno.ECONNREFUSED):
                    raise DemoError("%s: connect %s: %s" % (what, path,
                                                            e.strerror))
            if time.monotonic() > deadline:
                raise DemoError("%s: %s did not appear within %.0f s" %
                                (what, path, CONNECT_TIMEOUT))
            time.sleep(0.02)
        self.sock = sock

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None

    def send_line(self, text):
        try:
            self.sock.sendall(text.encode() + b"\n")
        except OSError as e:
            raise DemoError("%s: send: %s" % (self.what, e.strerror))

    def read_line(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DemoTimeout("%s: no answer within %.0f s" %
                                  (self.what, timeout))
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                continue
            try:
                data = self.sock.recv(65536)
            except OSError as e:
                raise DemoError("%s: receive: %s" % (self.what, e.strerror))
            if not data:
                raise DemoError("%s: connection closed" % self.what)
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace").rstrip("\r")


class Qmp:
    """QMP client: commands wait for their reply, events are queued."""

    def __init__(self, path, what, proc):
        self.what = what
        self.events = []
        self.conn = LineSocket(path, what + " QMP", proc)
        greeting = self._read(CONNECT_TIMEOUT)
        if "QMP" not in greeting:
            raise DemoError("%s: unexpected greeting %s" % (what, greeting))
        self.cmd("qmp_capabilities")

    def close(self):
        self.conn.close()

    def _read(self, timeout):
        line = self.conn.read_line(timeout)
        try:
            return json.loads(line)
        except ValueError:
            raise DemoError("%s: malformed QMP message %r" % (self.what,
                                                               line))

    def execute(self, name, args=None, timeout=CMD_TIMEOUT):
        """The reply object: {"return": ...} or {"error": ...}."""
        req = {"execute": name}
        if args is not None:
            req["arguments"] = args
        self.conn.send_line(json.dumps(req))
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read(max(deadline - time.monotonic(), 0.01))
            if "event" in msg:
                self.events.append(msg)
                continue
            return msg

    def cmd(self, name, args=None, timeout=CMD_TIMEOUT):
        """The command's return value; an error reply ends the demo."""
        reply = self.execute(name, args, timeout)
        if "error" in reply:
            raise DemoError("%s: %s failed: %s" %
                            (self.what, name, reply["error"].get("desc")))
        return reply.get("return")

    def poll_events(self):
        """Queue whatever events are already waiting on the socket."""
        while True:
            ready, _, _ = select.select([self.conn.sock], [], [], 0)
            if not ready and b"\n" not in self.conn.buf:
                return
            msg = self._read(CMD_TIMEOUT)
            if "event" in msg:
                self.events.append(msg)

    def take_events(self, name):
        """Remove and return the queued events called @name."""
        self.poll_events()
        taken = [e for e in self.events if e["event"] == name]
        self.events = [e for e in self.events if e["event"] != name]
        return taken

    def wait_event(self, name, match=None, timeout=CMD_TIMEOUT):
        """Wait for an event @name whose data contains @match."""
        match = match or {}
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                data = e.get("data", {})
                if e["event"] == name and all(data.get(k) == v
                                              for k, v in match.items()):
                    del self.events[i]
                    return e
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise DemoTimeout()
                self.events.append(self._read(left))
            except DemoTimeout:
                raise DemoTimeout("%s: no %s event%s within %.0f s" %
                                  (self.what, name,
                                   " " + json.dumps(match) if match else "",
                                   timeout))


class Qtest:
    """The qtest line protocol (docs/qtest.md): one request, one reply."""

    def __init__(self, path, what, proc):
        self.what = what
        self.conn = LineSocket(path, what + " qtest", proc)

    def close(self):
        self.conn.close()

    def request(self, line):
        self.conn.send_line(line)
        reply = self.conn.read_line(CMD_TIMEOUT)
        if not reply.startswith("OK"):
            raise DemoError("%s: qtest '%s' -> %s" % (self.what,
                                                      line[:40], reply))
        return reply[3:]

    def write(self, addr, data):
        self.request("write 0x%x %d 0x%s" % (addr, len(data), data.hex()))

    def read(self, addr, size):
        value = self.request("read 0x%x %d" % (addr, size))
        return bytes.fromhex(value[2:])

    def memset(self, addr, size, value):
        self.request("memset 0x%x 0x%x 0x%x" % (addr, size, value))


class KvClient:
    """The kv service over its serial sockets, reconnecting on failure.

    On every connection it sends CAN (the guest drops a half line) and
    PING with a fresh token, and skips lines up to the matching PONG, so
    replies meant for an earlier connection are never taken for its own.
    A request without a reply is sent again on the next connection (SET
    and GET are idempotent)."""

    def __init__(self, paths, proc_of):
        self.paths = paths
        self.proc_of = proc_of      # path -> the process serving it
        self.conn = None
        self.at = 0
        self.token = 0
        self.reconnects = -1
        self.resent = 0

    def _connect(self, deadline):
        while True:
            path = self.paths[self.at % len(self.paths)]
            self.at += 1
            proc = self.proc_of[path]
            try:
                if proc.poll() is None:
                    self.conn = LineSocket(path, "kv client", proc)
                    self.token += 1
                    self.conn.sock.sendall(b"\x18PING t%d\n" % self.token)
                    while self.conn.read_line(2.0) != "PONG t%d" % self.token:
                        pass
                    self.reconnects += 1
                    return path
            except DemoError:
                if self.conn:
                    self.conn.close()
                self.conn = None
            if time.monotonic() > deadline:
                raise DemoError("kv client: no address served within "
                                "the deadline")
            time.sleep(0.05)

    def send(self, requests):
        """Send without waiting: batch() with the same list reads them."""
        if not self.conn:
            self._connect(time.monotonic() + CONNECT_TIMEOUT)
        self.conn.sock.sendall("".join(r + "\n" for r in requests).encode())
        self.in_flight = requests

    def batch(self, requests, timeout=FAILOVER_TIMEOUT):
        """The replies to @requests, in order, resending what got none."""
        deadline = time.monotonic() + timeout
        replies = []
        sent = getattr(self, "in_flight", None) is requests and self.conn
        lost = False
        self.in_flight = None
        while len(replies) < len(requests):
            try:
                if not self.conn:
                    self._connect(deadline)
                    if lost:
                        self.resent += len(requests) - len(replies)
                    sent = False
                if not sent:
                    todo = requests[len(replies):]
                    self.conn.sock.sendall("".join(r + "\n" for r in todo)
                                           .encode())
                    sent = True
                while len(replies) < len(requests):
                    replies.append(self.conn.read_line(2.0))
            except (DemoError, OSError):
                lost = lost or sent
                if self.conn:
                    self.conn.close()
                self.conn = None
                if time.monotonic() > deadline:
                    raise DemoError("kv client: no reply within %.0f s" %
                                    timeout)
        return replies

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


class Vm:
    """One colo-vm process with its QMP (and qtest) connection."""

    def __init__(self, name, binary, tmpdir, args):
        self.name = name
        self.dir = tmpdir
        self.qmp_path = os.path.join(tmpdir, name + "-qmp.sock")
        self.qtest_path = os.path.join(tmpdir, name + "-qtest.sock")
        self.out_path = os.path.join(tmpdir, name + ".out")
        self.err_path = os.path.join(tmpdir, name + ".err")
        args = [a.replace("@QTEST@", self.qtest_path) for a in args]
        self.argv = [binary] + args + [
            "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        self.qmp = None
        self.qtest = None
        with open(self.out_path, "wb") as out, \
                open(self.err_path, "wb") as err:
            # A session of its own: Ctrl-C reaches this script only, which
            # then cleans up in order.
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err,
                                         start_new_session=True,
                                         preexec_fn=die_with_parent)
        self.pid = self.proc.pid

    def connect(self, with_qtest):
        self.qmp = Qmp(self.qmp_path, self.name, self.proc)
        if with_qtest:
            self.qtest = Qtest(self.qtest_path, self.name, self.proc)

    def alive(self):
        return self.proc.poll() is None

    def serial_count(self, char):
        try:
            with open(self.out_path, "rb") as f:
                return f.read().count(char.encode())
        except OSError:
            return 0

    def stderr_tail(self, lines=15):
        try:
            with open(self.err_path, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def kill9(self):
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self.proc.wait()

    def close_sockets(self):
        for c in (self.qmp, self.qtest):
            if c:
                try:
                    c.close()
                except OSError:
                    pass
        self.qmp = self.qtest = None

    def shut_down(self):
        """quit when it still answers, SIGKILL otherwise; always reaped."""
        if self.alive() and self.qmp:
            try:
                self.qmp.execute("quit", timeout=5)
                self.proc.wait(timeout=10)
            except (DemoError, OSError, subprocess.TimeoutExpired):
                pass
        self.close_sockets()
        if self.alive():
            self.kill9()
        else:
            self.proc.wait()


def colo_stats(qmp):
    """query-migrate's status and its colo object ({} when absent)."""
    info = qmp.cmd("query-migrate")
    return info.get("status"), info.get("colo") or {}


def stat(colo, *names):
    """The first of @names present in the colo object (None if none)."""
    for n in names:
        if n in colo:
            return colo[n]
    return None


def vm_rss_kib(pid):
    """VmRSS of process @pid in KiB (0 if it cannot be read)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def checkpoint_count(colo):
    return stat(colo, "checkpoint-count", "checkpoints", "count") or 0


def event_time(e):
    ts = e["timestamp"]
    return ts["seconds"] + ts["microseconds"] / 1e6


def fmt_ms(v):
    return "-" if v is None else ("%.1f ms" % v if isinstance(v, float)
                                  else "%s ms" % v)


class Demo:
    def __init__(self, opts):
        self.opts = opts
        self.vms = []
        self.pending_stop = None
        self.tmpdir = None
        self.summary = []
        kvm, why_not_kvm = kvm_usable()
        if opts.qtest:
            self.accel, self.why = "qtest", "--qtest given"
        elif kvm:
            self.accel, self.why = "kvm", "/dev/kvm is usable"
        else:
            self.accel, self.why = "tcg", "no usable KVM: %s" % why_not_kvm
        # Whether a guest runs, or this script plays it.
        self.guest = self.accel != "qtest"
        # The kv service behind the COLO proxy, with a client.
        self.service = self.guest and opts.guest_name == "kv"
        self.client = None
        self.acked = {}         # key -> counter of its last OK
        self.counter = 0

    def record(self, step, result):
        self.summary.append((step, result))

    def start_vm(self, name, args):
        vm = Vm(name, self.opts.binary, self.tmpdir, args)
        self.vms.append(vm)
        vm.connect(not self.guest)
        return vm

    def machine_args(self):
        args = ["-m", "%dM" % self.opts.ram_mib]
        if self.service:
            return args + ["-accel", self.accel]
        if self.guest:
            return args + ["-accel", self.accel, "-serial", "stdio"]
        return args + ["-accel", "qtest", "-qtest",
                       "unix:@QTEST@,server=on,wait=off"]

    # ---- the steps ----

    def start_pair(self):
        caps = [{"capability": "x-colo", "state": True},
                {"capability": "events", "state": True}]
        mig_sock = os.path.join(self.tmpdir, "mig.sock")

        # The secondary needs x-colo before the stream arrives.  With the
        # service, the primary comes first: the secondary's proxy
        # chardevs connect to it.
        if self.service:
            self.start_primary()
        sec = self.start_vm("secondary",
                            self.machine_args() + self.proxy_args("s") +
                            ["-incoming", "defer"])
        sec_caps = caps + ([{"capability": "x-colo-lean", "state": True}]
                           if self.opts.lean else [])
        sec.qmp.cmd("migrate-set-capabilities", {"capabilities": sec_caps})
        sec.qmp.cmd("migrate-incoming", {"uri": "unix:" + mig_sock})
        say("secondary pid %d: -incoming defer, x-colo%s + events, "
            "listening on %s" % (sec.pid,
                                 " + x-colo-lean" if self.opts.lean else "",
                                 mig_sock))

        if not self.service:
            self.start_primary()
        pri = self.pri
        pri.qmp.cmd("migrate-set-capabilities", {"capabilities": caps})
        pri.qmp.cmd("migrate-set-parameters",
                    {"max-bandwidth": 100 * 1024 * MIB,
                     "downtime-limit": 2000,
                     "x-checkpoint-delay": self.opts.delay})
        say("primary pid %d: %s guest, x-colo + events, "
            "x-checkpoint-delay %d ms" %
            (pri.pid, self.opts.guest_name if self.guest else "qtest",
             self.opts.delay))
        self.record("primary + secondary started",
                    "pids %d, %d (%s, %d MiB)" %
                    (pri.pid, sec.pid, self.accel,
                     self.opts.ram_mib))
        self.pri, self.sec, self.uri = pri, sec, "unix:" + mig_sock

    def proxy_args(self, side):
        """The COLO proxy around the serial port (docs/colo.md)."""
        if not self.service:
            return []
        d = self.tmpdir
        sock = "socket,id=%s,path=" + d + "/%s.sock,server=on,wait=off"
        args = ["-chardev", sock % ("serial0", side + "-client"),
                "-serial", "chardev:serial0"]
        if side == "p":
            return args + [
                "-chardev", sock % ("mirror0", "mirror"),
                "-chardev", sock % ("compare1", "compare"),
                "-object", "filter-mirror,id=m0,chardev=serial0,queue=tx,"
                "outdev=mirror0",
                "-object", "colo-compare,id=comp0,primary_in=serial0,"
                "secondary_in=compare1,outdev=serial0,compare_timeout=1000,"
                "expired_scan_cycle=100"]
        return args + [
            "-chardev", "socket,id=red0,path=%s/mirror.sock,reconnect=1" % d,
            "-chardev", "socket,id=red1,path=%s/compare.sock,reconnect=1" % d,
            "-object", "filter-redirector,id=f1,chardev=serial0,queue=tx,"
            "indev=red0",
            "-object", "filter-redirector,id=f2,chardev=serial0,queue=rx,"
            "outdev=red1"]

    def start_primary(self):
        pargs = self.machine_args() + self.proxy_args("p")
        if self.guest:
            pargs += ["-kernel", self.opts.guest]
        self.pri = self.start_vm("primary", pargs)

    def kv_writes(self, n, send_only=False):
        """SET @n keys; record the ones acknowledged."""
        reqs, keys = [], []
        for _ in range(n):
            self.counter += 1
            key = "k%d" % (self.counter * 7919 % 997)
            keys.append((key, self.counter))
            reqs.append("SET %s v%08d" % (key, self.counter))
        if send_only:
            self.client.send(reqs)
            return reqs, keys
        self.kv_record(reqs, keys, self.client.batch(reqs))
        return None

    def kv_record(self, reqs, keys, replies):
        for (key, c), rep, req in zip(keys, replies, reqs):
            if not rep.startswith("OK"):
                raise DemoError("kv: '%s' answered '%s'" % (req, rep))
            self.acked[key] = c

    def guest_started(self):
        if self.service:
            paths = [os.path.join(self.tmpdir, n + "-client.sock")
                     for n in ("p", "s")]
            self.client = KvClient(paths, {paths[0]: self.pri.proc,
                                           paths[1]: self.sec.proc})
            self.kv_writes(16)
            say("kv service answering on the primary's serial socket "
                "(16 writes acknowledged)")
        elif self.guest:
            deadline = time.monotonic() + CONNECT_TIMEOUT
            while self.pri.serial_count("B") < 1:
                if time.monotonic() > deadline or not self.pri.alive():
                    raise DemoError("the dirtier printed no 'B' on the "
                                    "primary within %.0f s" %
                                    CONNECT_TIMEOUT)
                time.sleep(0.05)
            say("dirtier running on the primary (%d 'B's so far)" %
                self.pri.serial_count("B"))
        else:
            # A marker the secondary must hold after the first copy, and
            # a few MiB of data so that the copy carries something.
            self.pri.qtest.write(0x100000, b"written before migrate\0")
            self.pri.qtest.memset(0x200000, 4 * MIB, 0x5a)
            say("wrote a marker and 4 MiB into the primary's RAM (qtest)")

    def enter_colo(self):
        t = time.monotonic()
        self.pri.qmp.cmd("migrate", {"uri": self.uri})
        say("migrate %s" % self.uri)
        self.pri.qmp.wait_event("MIGRATION", {"status": "colo"},
                                COLO_TIMEOUT)
        self.sec.qmp.wait_event("MIGRATION", {"status": "colo"},
                                COLO_TIMEOUT)
        secs = time.monotonic() - t
        pmode = self.pri.qmp.cmd("query-colo-status")
        smode = self.sec.qmp.cmd("query-colo-status")
        if pmode.get("mode") != "primary" or smode.get("mode") != "secondary":
            raise DemoError("query-colo-status: primary says %s, secondary "
                            "says %s" % (pmode, smode))
        say("both sides in COLO after %.2f s: primary mode '%s', "
            "secondary mode '%s'" % (secs, pmode["mode"], smode["mode"]))
        self.record("precopy, then COLO on both sides", "%.2f s" % secs)
        # Events before this point belong to the first copy.
        self.pri.qmp.take_events("STOP")
        self.pri.qmp.take_events("RESUME")

    def event_pauses(self):
        """The primary's last STOP -> RESUME pause seen in its events."""
        evs = self.pri.qmp.take_events("STOP") + \
            self.pri.qmp.take_events("RESUME")
        last = None
        for e in sorted(evs, key=event_time):
            if e["event"] == "STOP":
                self.pending_stop = event_time(e)
            elif self.pending_stop is not None:
                last = (event_time(e) - self.pending_stop) * 1e3
                self.pending_stop = None
        return "" if last is None else ", STOP->RESUME %.1f ms" % last

    def dirty_between_checkpoints(self, n):
        """qtest: the primary's 'guest' writes a little between checkpoints;
        with the service, the client writes keys."""
        if self.service:
            self.kv_writes(16)
        elif not self.guest:
            self.pri.qtest.memset(0x800000 + (n % 8) * MIB, MIB, n & 0xff)
            self.pri.qtest.write(0x100000 + 64, b"tick %d\0" % n)

    def watch_checkpoints(self):
        want = self.opts.checkpoints
        _, colo = colo_stats(self.pri.qmp)
        start = checkpoint_count(colo)
        seen = start
        say("watching %d checkpoints (query-migrate 'colo' on the primary, "
            "STOP/RESUME events):" % want)
        deadline = time.monotonic() + CHECKPOINT_TIMEOUT + \
            want * self.opts.delay / 1000.0
        while seen - start < want:
            if time.monotonic() > deadline:
                raise DemoError("only %d checkpoints in %.0f s" %
                                (seen - start, CHECKPOINT_TIMEOUT))
            if not self.pri.alive() or not self.sec.alive():
                raise DemoError("a VM exited during COLO")
            for vm in (self.pri, self.sec):
                for ev in vm.qmp.take_events("COLO_EXIT"):
                    raise DemoError("%s left COLO: COLO_EXIT %s" %
                                    (vm.name, json.dumps(ev.get("data"))))
            self.dirty_between_checkpoints(seen)
            time.sleep(0.05)
            status, colo = colo_stats(self.pri.qmp)
            if status != "colo":
                raise DemoError("primary left COLO: status %s" % status)
            count = checkpoint_count(colo)
            if count == seen:
                continue
            seen = count
            ev = self.event_pauses()
            last = stat(colo, "last-pause-time", "last-pause")
            avg = stat(colo, "average-pause-time", "average-pause")
            say("  checkpoint %3d: pause %s (average %s)%s%s" %
                (count, fmt_ms(last), fmt_ms(avg), ev,
                 "; %d keys acknowledged" % len(self.acked)
                 if self.service else ""))
        _, scolo = colo_stats(self.sec.qmp)
        if self.service:
            cmp = self.pri.qmp.cmd("x-query-colo-compare")[0]
            say("primary x-query-colo-compare: %s" % json.dumps(cmp))
            self.record("output released by the comparer",
                        "%d bytes matched the secondary's, %d by a "
                        "checkpoint; %d held now" %
                        (cmp["released-match"], cmp["released-checkpoint"],
                         cmp["held"]))
        say("primary colo: %s" % json.dumps(colo))
        say("secondary colo: %s" % json.dumps(scolo))
        self.record("checkpoints watched",
                    "%d (total %d); pause last %s, average %s" %
                    (seen - start, seen, fmt_ms(stat(colo, "last-pause-time")),
                     fmt_ms(stat(colo, "average-pause-time"))))
        self.record("checkpoints loaded by the secondary",
                    str(checkpoint_count(scolo)))
        self.record("secondary's memory",
                    "%s: cache-bytes %d KiB%s; VmRSS %d MiB for %d MiB "
                    "of guest RAM" %
                    ("lean" if self.opts.lean else "full RAM cache",
                     (stat(scolo, "cache-bytes") or 0) // 1024,
                     "" if self.opts.lean
                     else " (reserved; only pages in use are filled)",
                     vm_rss_kib(self.sec.pid) // 1024, self.opts.ram_mib))

    def last_words(self):
        """qtest: a marker the secondary must hold after the failover."""
        if self.guest:
            return
        self.pri.qtest.write(0x100000, b"written during COLO\0")
        _, colo = colo_stats(self.pri.qmp)
        first = checkpoint_count(colo)
        # The checkpoint after the next one certainly started after the
        # write, so it carried it.
        deadline = time.monotonic() + CHECKPOINT_TIMEOUT
        while checkpoint_count(colo) < first + 2:
            if time.monotonic() > deadline:
                raise DemoError("no checkpoint after the marker within "
                                "%.0f s" % CHECKPOINT_TIMEOUT)
            time.sleep(0.05)
            _, colo = colo_stats(self.pri.qmp)
        say("marker written on the primary and checkpointed (checkpoint "
            "%d)" % checkpoint_count(colo))

    def fail_over(self):
        sec = self.sec
        in_flight = None
        if self.service:
            # Requests on their way when the primary dies: the client
            # gets no answer and must send them again to the secondary.
            in_flight = self.kv_writes(8, send_only=True)
        self.pri.kill9()
        say("primary killed with SIGKILL (pid %d)" % self.pri.pid)
        self.record("primary killed", "kill -9 %d" % self.pri.pid)

        # With its peer gone the secondary's COLO loop fails and says so
        # (COLO_EXIT reason error); it then waits for a decision.
        try:
            ev = sec.qmp.wait_event("COLO_EXIT", timeout=10)
            say("secondary: COLO_EXIT %s" % json.dumps(ev.get("data")))
            first_exit = ev["data"].get("reason")
        except DemoTimeout:
            say("secondary: no COLO_EXIT yet (still blocked); failing over "
                "anyway")
            first_exit = None
        st = sec.qmp.cmd("query-colo-status")
        status, _ = colo_stats(sec.qmp)
        run = sec.qmp.cmd("query-status").get("status")
        say("secondary before failover: migration status '%s', run state "
            "'%s', query-colo-status %s" % (status, run, json.dumps(st)))

        t = time.monotonic()
        sec.qmp.cmd("x-colo-lost-heartbeat")
        say("secondary: x-colo-lost-heartbeat")
        sec.qmp.wait_event("MIGRATION", {"status": "completed"},
                           FAILOVER_TIMEOUT)
        if first_exit is None:
            ev = sec.qmp.wait_event("COLO_EXIT", timeout=FAILOVER_TIMEOUT)
            say("secondary: COLO_EXIT %s" % json.dumps(ev.get("data")))
            first_exit = ev["data"].get("reason")
        deadline = time.monotonic() + FAILOVER_TIMEOUT
        while True:
            run = sec.qmp.cmd("query-status")
            if run.get("status") == "running":
                break
            if time.monotonic() > deadline:
                raise DemoError("secondary not running after failover: %s" %
                                json.dumps(run))
            time.sleep(0.02)
        took = (time.monotonic() - t) * 1e3
        st = sec.qmp.cmd("query-colo-status")
        say("secondary query-colo-status after failover: %s" %
            json.dumps(st))
        if st.get("mode") != "none" or st.get("last-mode") != "secondary" \
                or st.get("reason") != "request":
            raise DemoError("query-colo-status after failover: expected "
                            "mode none, last-mode secondary, reason request")
        status, _ = colo_stats(sec.qmp)
        say("secondary: migration status '%s', run state 'running' "
            "%.0f ms after the request" % (status, took))
        self.record("COLO_EXIT on the secondary", "reason %s" % first_exit)
        self.record("x-colo-lost-heartbeat -> running", "%.0f ms" % took)
        self.record("query-colo-status (secondary)",
                    "mode %s, last-mode %s, reason %s" %
                    (st["mode"], st["last-mode"], st["reason"]))
        self.in_flight = in_flight

    def service_survives(self):
        """The client goes on with the secondary and finds every write."""
        reqs, keys = self.in_flight
        t = time.monotonic()
        self.kv_record(reqs, keys, self.client.batch(reqs))
        say("kv client reconnected to the secondary after %.2f s and sent "
            "its %d unanswered requests again: all acknowledged" %
            (time.monotonic() - t, self.client.resent))
        keys = sorted(self.acked)
        replies = []
        for i in range(0, len(keys), 32):
            replies += self.client.batch(["GET " + k for k in keys[i:i + 32]])
        lost = [k for k, r in zip(keys, replies)
                if not r.startswith("v") or int(r[1:]) < self.acked[k]]
        if lost:
            raise DemoError("kv: %d acknowledged writes missing on the "
                            "secondary, e.g. %s" % (len(lost), lost[0]))
        self.kv_writes(16)
        say("secondary holds every acknowledged write: %d keys checked, "
            "none lost; new writes acknowledged" % len(keys))
        self.record("client after failover",
                    "reconnected to the secondary, %d requests resent" %
                    self.client.resent)
        self.record("acknowledged writes on the secondary",
                    "%d of %d keys, none lost" % (len(keys), len(keys)))

    def guest_survives(self):
        sec = self.sec
        if self.service:
            self.service_survives()
            return
        if self.guest:
            # Counted from the moment the failover completed.
            self.b_before = sec.serial_count("B")
            more = 3
            t = time.monotonic()
            deadline = t + FAILOVER_TIMEOUT
            while sec.serial_count("B") < self.b_before + more:
                if time.monotonic() > deadline or not sec.alive():
                    raise DemoError("the guest printed no new 'B' on the "
                                    "secondary within %.0f s" %
                                    FAILOVER_TIMEOUT)
                time.sleep(0.02)
            say("guest on the secondary keeps running: %d new 'B's in "
                "%.2f s" % (sec.serial_count("B") - self.b_before,
                            time.monotonic() - t))
            self.record("guest after failover", "%d new 'B's on the "
                        "secondary's serial in %.2f s" %
                        (sec.serial_count("B") - self.b_before,
                         time.monotonic() - t))
            return
        got = sec.qtest.read(0x100000, 19)
        if got != b"written during COLO":
            raise DemoError("secondary RAM holds %r, not the primary's last "
                            "checkpointed marker" % got)
        fill = sec.qtest.read(0x200000 + 4 * MIB - 16, 16)
        if fill != b"\x5a" * 16:
            raise DemoError("secondary RAM lost the data of the first copy")
        sec.qtest.write(0x100000, b"written after failover\0")
        if sec.qtest.read(0x100000, 22) != b"written after failover":
            raise DemoError("secondary RAM not writable after failover")
        say("secondary RAM holds the primary's last checkpointed marker "
            "and takes new writes (qtest)")
        self.record("guest after failover",
                    "RAM as checkpointed, running, writable")

    def run(self):
        if not os.access(self.opts.binary, os.X_OK):
            raise DemoError("colo-vm binary %s not found: run make first" %
                            self.opts.binary)
        if self.guest and not os.path.exists(self.opts.guest):
            raise DemoError("guest %s not found" % self.opts.guest)
        self.tmpdir = tempfile.mkdtemp(prefix="colo-demo.")
        say("COLO demo: %s (%s)" %
            ("the %s guest under %s" % (self.opts.guest_name, self.accel)
             if self.guest else "qtest, no guest code", self.why))
        self.start_pair()
        self.guest_started()
        self.enter_colo()
        self.watch_checkpoints()
        self.last_words()
        self.fail_over()
        self.guest_survives()

    def cleanup(self):
        if self.client:
            self.client.close()
        for vm in reversed(self.vms):
            vm.shut_down()
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def print_summary(self, ok):
        width = max([len(s) for s, _ in self.summary] + [10])
        print()
        print("COLO demo summary (%s, %d MiB, x-checkpoint-delay %d ms%s)" %
              (self.accel, self.opts.ram_mib,
               self.opts.delay, ", lean secondary" if self.opts.lean
               else ""))
        print("  %-*s  %s" % (width, "step", "result"))
        print("  %s  %s" % ("-" * width, "-" * 40))
        for step, result in self.summary:
            print("  %-*s  %s" % (width, step, result))
        print("  %-*s  %s" % (width, "verdict",
                              "PASS" if ok else "FAIL"))
        print("  %-*s  %.1f s" % (width, "wall time",
                                  time.monotonic() - T0))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_build = os.path.join(os.path.dirname(here), "build")
    ap = argparse.ArgumentParser(description="COLO demo: checkpoints and "
                                 "a failover on one machine")
    ap.add_argument("--build-dir", default=default_build,
                    help="where colo-vm was built (default: build/)")
    ap.add_argument("--qtest", action="store_true",
                    help="run no guest code: qtest machines, the script "
                    "plays the guest")
    ap.add_argument("--guest", dest="guest_name", default="kv",
                    choices=["kv", "dirtier"],
                    help="kv: the key-value service with a client, behind "
                    "the COLO proxy (default); dirtier: a guest that "
                    "rewrites its memory")
    ap.add_argument("--ram-mib", type=int, default=64,
                    help="guest RAM in MiB (default 64)")
    ap.add_argument("--delay", type=int, default=300,
                    help="x-checkpoint-delay in ms (default 300)")
    ap.add_argument("--checkpoints", type=int, default=6,
                    help="checkpoints to watch before the crash (default 6)")
    ap.add_argument("--lean", action="store_true",
                    help="x-colo-lean on the secondary: it keeps no second "
                    "copy of guest RAM (docs/colo.md, Lean secondary)")
    opts = ap.parse_args()
    opts.binary = os.path.join(opts.build_dir, "colo-vm")
    opts.guest = os.path.join(opts.build_dir, "tests", "guest",
                              opts.guest_name + ".elf")

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    demo = Demo(opts)
    status = 1
    try:
        demo.run()
        status = 0
    except DemoError as e:
        say("FAILED: %s" % e)
        for vm in demo.vms:
            tail = vm.stderr_tail()
            if tail:
                print("--- %s stderr (last lines) ---\n%s" % (vm.name, tail))
    except Interrupted as e:
        say("interrupted (%s): cleaning up" % e)
        status = 130
    finally:
        # Cleaning up must not be cut short by a second Ctrl-C.
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        demo.cleanup()
    if status != 130:
        demo.print_summary(status == 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
