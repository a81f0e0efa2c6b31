#!/usr/bin/env python3
#
# Tools written for QEMU read the streams colo-vm writes.  A qtest
# machine gets varied RAM contents and UART state (divisor, scratch,
# FIFO holding one received byte, so that a subsection is sent), then
# is migrated over each transport: file:, exec:, and tcp: and unix: to
# a listener of this test that keeps the bytes.  Every stream must be
# read to its end under QEMU's analyze-migration.py rules, as QEMU 7.2
# and as later versions apply them (qemu_stream_rules.py): the RAM
# they extract must equal the guest's, byte for byte, and the device
# state they decode must be the one set up.  Our own
# scripts/analyze-migration.py must decode the same streams alike.
#
# When QEMU_ANALYZE_MIGRATION names copies of QEMU's own script
# (separated by ':'), they are run too; no package installs it, so
# that case is skipped otherwise.
#
# Environment: COLO_VM_BINARY and ANALYZE_MIGRATION (our script);
# without them the test is skipped (exit 77).
#
# SPDX-License-Identifier: GPL-2.0-or-later

import base64
import json
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import qemu_stream_rules as rules
from colo_vm_client import DEADLINE, QMP, QTest, connect

MIB = 1024 * 1024
RAM_SIZE = 16 * MIB
PAGE = 4096
VCPUS = 2

UART = 0x3f8
UART_DIVISOR = 3
UART_LCR = 0x03                 # 8N1, DLAB clear again
UART_IER = 0x01
UART_FCR = 0x01                 # FIFO on
UART_SCR = 0xa5
UART_INPUT = b'Q'

TRANSPORTS = ('file', 'exec', 'tcp', 'unix')


class Listener:
    """Accept one migration connection and keep every byte of it."""

    def __init__(self, family, address):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind(address)
        self.sock.listen(1)
        self.sock.settimeout(DEADLINE)
        self.data = None
        self.error = None
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        try:
            conn, _ = self.sock.accept()
            conn.settimeout(DEADLINE)
            chunks = []
            while True:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
            conn.close()
            self.data = b''.join(chunks)
        except OSError as e:
            self.error = e

    def bytes(self):
        self.thread.join(DEADLINE)
        self.sock.close()
        if self.data is None:
            raise RuntimeError('nothing received: %s' % self.error)
        return self.data


class Source:
    """The qtest VM whose streams are read."""

    def __init__(self, binary, workdir):
        self.dir = workdir
        qmp_path = os.path.join(workdir, 'qmp.sock')
        qtest_path = os.path.join(workdir, 'qtest.sock')
        serial_path = os.path.join(workdir, 'serial.sock')
        self.log = open(os.path.join(workdir, 'vm.log'), 'w')
        self.vm = subprocess.Popen(
            [binary, '-accel', 'qtest', '-m', '%dM' % (RAM_SIZE // MIB),
             '-smp', str(VCPUS),
             '-qmp', 'unix:%s,server=on,wait=off' % qmp_path,
             '-qtest', 'unix:%s,server=on,wait=off' % qtest_path,
             '-serial', 'unix:%s,server=on,wait=off' % serial_path],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        self.qmp = QMP(qmp_path)
        self.qtest = QTest(qtest_path)
        self.serial = connect(serial_path)

    def fill_ram(self):
        """Random pages, filled pages, a partial page, zero elsewhere."""
        rng = random.Random(0x5eed)
        q = self.qtest

        def put(addr, data):
            q.cmd('b64write 0x%x %d %s' % (addr, len(data),
                                           base64.b64encode(data).decode()))

        put(0, bytes(rng.getrandbits(8) for _ in range(PAGE)))
        for page in range(1, 8):
            q.cmd('memset 0x%x %d 0x%02x' % (page * PAGE, PAGE, page * 0x11))
        put(MIB, bytes(rng.getrandbits(8) for _ in range(32 * PAGE)))
        q.cmd('write 0x%x 4 0xdeadbeef' % (5 * MIB + 123))
        put(RAM_SIZE - PAGE, bytes(rng.getrandbits(8) for _ in range(PAGE)))

    def set_uart(self):
        q = self.qtest
        q.cmd('outb 0x%x 0x80' % (UART + 3))            # DLAB
        q.cmd('outb 0x%x 0x%02x' % (UART, UART_DIVISOR & 0xff))
        q.cmd('outb 0x%x 0x%02x' % (UART + 1, UART_DIVISOR >> 8))
        q.cmd('outb 0x%x 0x%02x' % (UART + 3, UART_LCR))
        q.cmd('outb 0x%x 0x%02x' % (UART + 1, UART_IER))
        q.cmd('outb 0x%x 0x%02x' % (UART + 2, UART_FCR))
        q.cmd('outb 0x%x 0x%02x' % (UART + 7, UART_SCR))
        # One byte the guest never reads: LSR.DR says it has arrived.
        self.serial.sendall(UART_INPUT)
        end = time.monotonic() + DEADLINE
        while not int(q.cmd('inb 0x%x' % (UART + 5)).split()[1], 16) & 1:
            if time.monotonic() > end:
                raise RuntimeError('the UART did not receive the byte')
            time.sleep(0.01)

    def read_ram(self):
        out = bytearray()
        for addr in range(0, RAM_SIZE, MIB):
            reply = self.qtest.cmd('b64read 0x%x %d' % (addr, MIB))
            out += base64.b64decode(reply.split()[1])
        return bytes(out)

    def migrate(self, transport):
        """Migrate over @transport; the stream's bytes."""
        path = os.path.join(self.dir, 'stream-%s.bin' % transport)
        listener = None
        if transport == 'file':
            uri = 'file:' + path
        elif transport == 'exec':
            uri = 'exec:cat > ' + path
        elif transport == 'tcp':
            listener = Listener(socket.AF_INET, ('127.0.0.1', 0))
            uri = 'tcp:127.0.0.1:%d' % listener.sock.getsockname()[1]
        else:
            sock_path = os.path.join(self.dir, 'mig.sock')
            listener = Listener(socket.AF_UNIX, sock_path)
            uri = 'unix:' + sock_path
        self.qmp.cmd('migrate', uri=uri)
        self.qmp.wait_migration()
        # A completed source stays stopped; it may migrate again once
        # it runs.
        self.qmp.cmd('cont')
        if listener:
            return listener.bytes()
        with open(path, 'rb') as f:
            return f.read()

    def close(self):
        try:
            self.qmp.cmd('quit')
            self.vm.wait(DEADLINE)
        finally:
            if self.vm.poll() is None:
                self.vm.kill()
                self.vm.wait()
            self.qmp.close()
            self.qtest.close()
            self.serial.close()
            self.log.close()


def plain(value):
    """Decoded state as JSON-like values: bytes as hex strings."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    return value


def ours_as_qemu(state):
    """Our analyzer's state, subsections moved where QEMU's put them."""
    state = dict(state)
    subs = state.pop('subsections', {})
    for key, value in state.items():
        if isinstance(value, dict):
            state[key] = ours_as_qemu(value)
        elif isinstance(value, list):
            state[key] = [ours_as_qemu(v) if isinstance(v, dict) else v
                          for v in value]
    for name, sub in subs.items():
        state[name] = ours_as_qemu(sub)
    return state


class QemuStreamRules(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix='qemu-stream-rules-')
        src = Source(os.environ['COLO_VM_BINARY'], cls.tmp.name)
        try:
            src.fill_ram()
            src.set_uart()
            cls.guest_ram = src.read_ram()
            cls.streams = {t: src.migrate(t) for t in TRANSPORTS}
        finally:
            src.close()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def stream_file(self, transport):
        path = os.path.join(self.tmp.name, 'copy-%s.bin' % transport)
        with open(path, 'wb') as f:
            f.write(self.streams[transport])
        return path

    # ---- under QEMU's rules ----

    def read_under_rules(self, transport, generation):
        data = self.streams[transport]
        try:
            r = rules.read_stream(data, generation)
        except rules.RulesError as e:
            self.fail('%s stream, %s rules: %s' % (transport, generation, e))
        # Read to the end: EOF, then the description found from the end,
        # then nothing.
        self.assertEqual(r.desc_offset, r.eof_offset + 1)
        length = struct.unpack('>I', data[r.desc_offset + 1:
                                          r.desc_offset + 5])[0]
        self.assertEqual(r.desc_offset + 5 + length, len(data))
        self.assertEqual(r.commands, [])
        return r

    def check_rules(self, transport):
        for generation in rules.GENERATIONS:
            with self.subTest(generation=generation):
                r = self.read_under_rules(transport, generation)
                self.check_config(r, generation)
                self.assertEqual(list(r.ram), ['pc.ram'])
                self.assertTrue(r.ram['pc.ram'] == self.guest_ram,
                                'extracted RAM differs from the guest\'s')
                self.check_devices(r)

    def check_config(self, r, generation):
        if generation == '7.2':
            self.assertEqual(r.configuration, {'name': b'colo-x86'})
        else:
            self.assertEqual(r.configuration,
                             {'len': len('colo-x86'), 'name': b'colo-x86'})

    def devices(self, r):
        return {(s.name, s.instance): s for s in r.sections.values()
                if s.name != 'ram'}

    def check_devices(self, r):
        devices = self.devices(r)
        expected = {('colo-vm-machine', 0), ('serial', 0)}
        expected |= {('cpu', i) for i in range(VCPUS)}
        self.assertEqual(set(devices), expected)
        self.assertEqual(devices[('colo-vm-machine', 0)].state,
                         {'ram_size': RAM_SIZE, 'vcpus': VCPUS})
        uart = devices[('serial', 0)].state
        self.assertEqual(uart['divider'], UART_DIVISOR)
        self.assertEqual(uart['lcr'], UART_LCR)
        self.assertEqual(uart['ier'], UART_IER)
        self.assertEqual(uart['fcr'], UART_FCR)
        self.assertEqual(uart['scr'], UART_SCR)
        self.assertEqual(uart['lsr'] & 1, 1)
        fifo = uart['serial/rx_fifo']
        self.assertEqual(fifo['rx_count'], 1)
        self.assertEqual(fifo['rx_fifo'][fifo['rx_head']], UART_INPUT[0])
        for i in range(VCPUS):
            cpu = devices[('cpu', i)].state
            self.assertIn('regs', cpu)
            self.assertIsInstance(cpu['msrs'], list)
            self.assertEqual(set(cpu['msrs'][0]), {'index', 'data'})

    # ---- our analyzer on the same streams ----

    def check_ours(self, transport):
        proc = subprocess.run(
            [sys.executable, os.environ['ANALYZE_MIGRATION'], '--json',
             self.stream_file(transport)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            timeout=DEADLINE)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = json.loads(proc.stdout)
        self.assertEqual(out['configuration'],
                         {'machine': 'colo-x86', 'ram_size': RAM_SIZE,
                          'vcpus': VCPUS})
        block = out['ram']['blocks']['pc.ram']
        self.assertEqual(block['size'], RAM_SIZE)
        self.assertGreaterEqual(block['pages'] + block['zero_pages'],
                                RAM_SIZE // PAGE)
        r = rules.read_stream(self.streams[transport], 'current')
        theirs = {k: plain(s.state) for k, s in self.devices(r).items()
                  if k[0] != 'colo-vm-machine'}
        mine = {(d['name'], d['instance_id']): ours_as_qemu(d['state'])
                for d in out['devices']}
        self.assertEqual(mine, theirs)

    def test_file(self):
        self.check_rules('file')
        self.check_ours('file')

    def test_exec(self):
        self.check_rules('exec')
        self.check_ours('exec')

    def test_tcp(self):
        self.check_rules('tcp')
        self.check_ours('tcp')

    def test_unix(self):
        self.check_rules('unix')
        self.check_ours('unix')

    # ---- the rules are not vacuous ----

    def test_rules_refuse_what_qemu_refuses(self):
        data = self.streams['file']
        head = data.index(b'colo-vm-machine') - 6
        body = head + 6 + len('colo-vm-machine') + 8
        ram_size, vcpus = struct.unpack('>QI', data[body:body + 12])
        after = body + 12 + 5
        # The machine as a subsection of the configuration (our old
        # layout): every generation stops at it.
        name = b'configuration/colo-vm-machine'
        old = (data[:head] + bytes([rules.SUBSECTION, len(name)]) + name +
               struct.pack('>IQI', 1, ram_size, vcpus) + data[after:])
        # A command (OPEN_RETURN_PATH, sent with the return path).
        cmd = (data[:after] + struct.pack('>BHH', rules.COMMAND, 1, 0) +
               data[after:])
        # A description length holding a '{' after its last zero byte.
        r = rules.read_stream(data, 'current')
        length = len(data) - r.desc_offset - 5
        pad = (0x7b - length) % 256
        padded = (data[:r.desc_offset + 1] +
                  struct.pack('>I', length + pad) +
                  data[r.desc_offset + 5:] + b' ' * pad)
        for generation in rules.GENERATIONS:
            with self.subTest(generation=generation):
                for bad, what in ((old, 'Unknown section type: 5'),
                                  (cmd, 'command'),
                                  (padded, 'VMDESCRIPTION')):
                    with self.assertRaises(rules.RulesError) as ctx:
                        rules.read_stream(bad, generation)
                    if generation == '7.2' and bad is cmd:
                        what = 'Unknown section type: 8'
                    self.assertIn(what, str(ctx.exception))

    # ---- QEMU's own script, where one is at hand ----

    def test_qemu_script(self):
        scripts = [p for p in os.environ.get('QEMU_ANALYZE_MIGRATION',
                                             '').split(os.pathsep) if p]
        if not scripts:
            self.skipTest('QEMU_ANALYZE_MIGRATION is not set (no package '
                          'ships QEMU\'s analyze-migration.py)')
        for script in scripts:
            for transport in TRANSPORTS:
                with self.subTest(script=script, transport=transport):
                    self.run_qemu_script(script, transport)

    def run_qemu_script(self, script, transport):
        stream = self.stream_file(transport)
        with tempfile.TemporaryDirectory(dir=self.tmp.name) as out:
            proc = subprocess.run(
                [sys.executable, script, '-x', '-f', stream], cwd=out,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                timeout=DEADLINE)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(os.path.join(out, 'pc.ram'), 'rb') as f:
                self.assertTrue(f.read() == self.guest_ram,
                                'pc.ram differs from the guest\'s RAM')
        proc = subprocess.run(
            [sys.executable, script, '-d', 'state', '-f', stream],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            timeout=DEADLINE)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        state = json.loads(proc.stdout)
        uart = [v for k, v in state.items() if k.startswith('serial (')]
        self.assertEqual(len(uart), 1)
        self.assertEqual(int(uart[0]['divider'], 16), UART_DIVISOR)
        self.assertEqual(int(uart[0]['scr'], 16), UART_SCR)


if __name__ == '__main__':
    if not os.environ.get('COLO_VM_BINARY') or \
            not os.environ.get('ANALYZE_MIGRATION'):
        print('SKIP: COLO_VM_BINARY and ANALYZE_MIGRATION are not set')
        sys.exit(77)
    unittest.main(verbosity=2)
