#
# What the Python tests of this folder need to drive a colo-vm process:
# connecting to the unix sockets it creates, QMP (replies only, events
# skipped) and qtest requests.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import json
import socket
import time

DEADLINE = 60


def connect(path, deadline=DEADLINE):
    """Connect to a unix socket the VM creates shortly after starting."""
    end = time.monotonic() + deadline
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


class LineClient:
    def __init__(self, path):
        self.sock = connect(path)
        self.buf = b''

    def line(self):
        while b'\n' not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError('the VM closed the connection')
            self.buf += data
        line, self.buf = self.buf.split(b'\n', 1)
        return line.decode()

    def send(self, text):
        self.sock.sendall(text.encode() + b'\n')

    def close(self):
        self.sock.close()


class QMP(LineClient):
    def __init__(self, path):
        super().__init__(path)
        json.loads(self.line())                      # greeting
        self.cmd('qmp_capabilities')

    def cmd(self, name, **args):
        msg = {'execute': name}
        if args:
            msg['arguments'] = args
        self.send(json.dumps(msg))
        while True:
            reply = json.loads(self.line())
            if 'event' in reply:
                continue
            if 'error' in reply:
                raise RuntimeError('%s: %s' % (name, reply['error']))
            return reply['return']

    def wait_migration(self, deadline=DEADLINE):
        """Poll query-migrate until the migration completes."""
        end = time.monotonic() + deadline
        while True:
            status = self.cmd('query-migrate').get('status')
            if status == 'completed':
                return
            if status in ('failed', 'cancelled') or time.monotonic() > end:
                raise RuntimeError('migration ended %s' % status)
            time.sleep(0.05)


class QTest(LineClient):
    def cmd(self, text):
        self.send(text)
        reply = self.line()
        if not reply.startswith('OK'):
            raise RuntimeError('qtest %r: %s' % (text, reply))
        return reply
