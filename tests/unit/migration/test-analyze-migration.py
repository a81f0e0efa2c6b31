#!/usr/bin/env python3
#
# scripts/analyze-migration.py on a stream saved by colo-vm: a qtest
# machine with a few pages written is migrated to "exec:cat > FILE", and
# the decoder must find the machine, every RAM page where it was put,
# the devices and the description; damaged copies of the file must be
# refused with a one-line error, never a traceback.
#
# Environment: COLO_VM_BINARY (the VM) and ANALYZE_MIGRATION (the
# script); without them the test is skipped (exit 77).
#
# SPDX-License-Identifier: GPL-2.0-or-later

import json
import os
import subprocess
import sys
import tempfile
import unittest

from colo_vm_client import DEADLINE, QMP, QTest

RAM_SIZE = 8 * 1024 * 1024
PAGE = 4096
VCPUS = 2


def save_stream(binary, workdir):
    """Migrate a qtest VM with three non-zero pages into a file."""
    qmp_path = os.path.join(workdir, 'qmp.sock')
    qtest_path = os.path.join(workdir, 'qtest.sock')
    stream = os.path.join(workdir, 'stream.bin')
    log = open(os.path.join(workdir, 'vm.log'), 'w')
    vm = subprocess.Popen(
        [binary, '-accel', 'qtest', '-m', str(RAM_SIZE // (1024 * 1024)) +
         'M', '-smp', str(VCPUS),
         '-qmp', 'unix:%s,server=on,wait=off' % qmp_path,
         '-qtest', 'unix:%s,server=on,wait=off' % qtest_path],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        qmp = QMP(qmp_path)
        qtest = QTest(qtest_path)
        qtest.cmd('write 0x100000 4 0x12345678')
        qtest.cmd('memset 0x200000 %d 0x5a' % (2 * PAGE))
        qmp.cmd('migrate', uri='exec:cat > %s' % stream)
        qmp.wait_migration()
        qmp.cmd('quit')
        qtest.close()
        qmp.close()
        vm.wait(DEADLINE)
    finally:
        if vm.poll() is None:
            vm.kill()
            vm.wait()
        log.close()
    return stream


class AnalyzeMigration(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix='analyze-migration-')
        cls.stream = save_stream(os.environ['COLO_VM_BINARY'], cls.tmp.name)
        with open(cls.stream, 'rb') as f:
            cls.data = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def analyze(self, *args):
        return subprocess.run(
            [sys.executable, os.environ['ANALYZE_MIGRATION']] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            timeout=DEADLINE)

    def damaged(self, name, data):
        path = os.path.join(self.tmp.name, name)
        with open(path, 'wb') as f:
            f.write(data)
        return self.analyze(path)

    def assert_refused(self, proc, message):
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(message, proc.stderr)
        self.assertNotIn('Traceback', proc.stderr)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1,
                         proc.stderr)

    def test_json(self):
        proc = self.analyze('--json', self.stream)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = json.loads(proc.stdout)
        self.assertEqual(out['header'], {'magic': 'QEVM', 'version': 3})
        self.assertEqual(out['configuration'],
                         {'machine': 'colo-x86', 'ram_size': RAM_SIZE,
                          'vcpus': VCPUS})

        blocks = out['ram']['blocks']
        self.assertEqual(list(blocks), ['pc.ram'])
        ram = blocks['pc.ram']
        self.assertEqual(ram['size'], RAM_SIZE)
        # Nothing writes RAM during the migration: one record per page.
        self.assertEqual(ram['pages'], 3)
        self.assertEqual(ram['page_bytes'], 3 * PAGE)
        self.assertEqual(ram['zero_pages'], RAM_SIZE // PAGE - 3)

        types = [s['type'] for s in out['sections'] if s['name'] == 'ram']
        self.assertEqual(types[0], 'START')
        self.assertEqual(types[-1], 'END')

        devices = {(d['name'], d['instance_id']): d for d in out['devices']}
        serial = devices[('serial', 0)]['state']
        self.assertEqual(serial['divider'], 12)
        self.assertIn('lsr', serial)

        # The machine section is decoded as the configuration; the
        # description also has it, for tools that do not know it.
        self.assertEqual(out['sections'][0]['name'], 'colo-vm-machine')
        desc = out['vmdescription']
        self.assertEqual(desc['page_size'], PAGE)
        self.assertEqual(desc['configuration']['vmsd_name'],
                         'configuration')
        self.assertEqual(sorted((d['name'], d['instance_id'])
                                for d in desc['devices']),
                         sorted(list(devices) + [('colo-vm-machine', 0)]))

    def test_text(self):
        proc = self.analyze(self.stream)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn('configuration: machine colo-x86, RAM %d bytes, %d '
                      'vCPUs' % (RAM_SIZE, VCPUS), proc.stdout)
        self.assertIn('pc.ram: %d bytes, 3 pages (%d bytes), %d zero pages'
                      % (RAM_SIZE, 3 * PAGE, RAM_SIZE // PAGE - 3),
                      proc.stdout)
        self.assertIn('device serial instance 0 version', proc.stdout)
        self.assertIn('VMDESCRIPTION:', proc.stdout)

    def test_bad_magic(self):
        self.assert_refused(self.damaged('magic', b'QEVN' + self.data[4:]),
                            'not a migration stream (magic 0x5145564e)')

    def test_truncated(self):
        for cut in (2, 30, 60):
            self.assert_refused(self.damaged('cut%d' % cut,
                                             self.data[:cut]),
                                'unexpected end of stream')
        # Without its end the stream has no description of the devices.
        self.assert_refused(self.damaged('cut-end', self.data[:-3]),
                            "cannot decode device section 'serial': the "
                            "stream has no VMDESCRIPTION (truncated?)")

    def test_bad_section_type(self):
        # The byte after the machine section (instance, version, RAM
        # size, vCPU count, footer) starts the RAM section.
        pos = self.data.index(b'colo-vm-machine') + len('colo-vm-machine')
        pos += 4 + 4 + 8 + 4 + 5
        self.assertEqual(self.data[pos], 0x01)
        data = self.data[:pos] + b'\x09' + self.data[pos + 1:]
        self.assert_refused(self.damaged('type', data),
                            'unknown section type 0x09')

    def test_missing_file(self):
        proc = self.analyze(os.path.join(self.tmp.name, 'absent'))
        self.assert_refused(proc, 'No such file or directory')


if __name__ == '__main__':
    if not os.environ.get('COLO_VM_BINARY') or \
            not os.environ.get('ANALYZE_MIGRATION'):
        print('SKIP: needs COLO_VM_BINARY and ANALYZE_MIGRATION in the '
              'environment (meson test sets them)')
        sys.exit(77)
    unittest.main(verbosity=2)
