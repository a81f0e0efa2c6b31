#!/usr/bin/env python3
#
# Decode a saved migration stream (written with `migrate` to
# "exec:cat > FILE" or "file:FILE"): the header and configuration, every
# section and command, a summary of the RAM records per block, the state
# of each device, and the VMDESCRIPTION.  docs/migration.md ("Stream
# format") describes the bytes.
#
# Device sections carry no length: their layout comes from the
# VMDESCRIPTION at the end of the stream, so it is read first.  The
# configuration (machine type) and our machine section (RAM size, vCPU
# count) have a fixed layout and are decoded without it.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import argparse
import json
import os
import struct
import sys

QEMU_VM_FILE_MAGIC = 0x5145564d
QEMU_VM_FILE_VERSION_COMPAT = 2
QEMU_VM_FILE_VERSION = 3

QEMU_VM_EOF = 0x00
QEMU_VM_SECTION_START = 0x01
QEMU_VM_SECTION_PART = 0x02
QEMU_VM_SECTION_END = 0x03
QEMU_VM_SECTION_FULL = 0x04
QEMU_VM_SUBSECTION = 0x05
QEMU_VM_VMDESCRIPTION = 0x06
QEMU_VM_CONFIGURATION = 0x07
QEMU_VM_COMMAND = 0x08
QEMU_VM_SECTION_FOOTER = 0x7e

SECTION_NAMES = {
    QEMU_VM_SECTION_START: 'START',
    QEMU_VM_SECTION_PART: 'PART',
    QEMU_VM_SECTION_END: 'END',
    QEMU_VM_SECTION_FULL: 'FULL',
}

# (name, payload length) of the commands we know.
COMMANDS = {
    1: ('OPEN_RETURN_PATH', 0),
    2: ('PING', 4),
    8: ('ENABLE_COLO', 0),
}

MACHINE_SECTION = 'colo-vm-machine'
MACHINE_SECTION_VERSION = 1
MACHINE_TYPE_NAME_MAX = 255
VMDESC_MAX = 16 * 1024 * 1024

RAM_SECTION = 'ram'
RAM_FLAG_ZERO = 0x02
RAM_FLAG_MEM_SIZE = 0x04
RAM_FLAG_PAGE = 0x08
RAM_FLAG_EOS = 0x10
RAM_FLAG_CONTINUE = 0x20
RAM_FLAGS_KNOWN = (RAM_FLAG_ZERO | RAM_FLAG_MEM_SIZE | RAM_FLAG_PAGE |
                   RAM_FLAG_EOS | RAM_FLAG_CONTINUE)
DEFAULT_PAGE_SIZE = 4096


class StreamError(Exception):
    def __init__(self, offset, message):
        super().__init__(message)
        self.offset = offset


class Reader:
    """Big-endian reads that fail with the offset and what was read."""

    def __init__(self, f):
        self.f = f
        self.offset = 0

    def fail(self, message):
        raise StreamError(self.offset, message)

    def read(self, n, what):
        data = self.f.read(n)
        if len(data) != n:
            raise StreamError(self.offset + len(data),
                              'unexpected end of stream while reading %s '
                              '(%d of %d bytes)' % (what, len(data), n))
        self.offset += n
        return data

    def peek(self):
        pos = self.f.tell()
        data = self.f.read(1)
        self.f.seek(pos)
        return data[0] if data else None

    def u8(self, what):
        return self.read(1, what)[0]

    def be16(self, what):
        return struct.unpack('>H', self.read(2, what))[0]

    def be32(self, what):
        return struct.unpack('>I', self.read(4, what))[0]

    def be64(self, what):
        return struct.unpack('>Q', self.read(8, what))[0]

    def counted_string(self, what):
        n = self.u8(what + ' length')
        raw = self.read(n, what)
        try:
            return raw.decode('ascii')
        except UnicodeDecodeError:
            self.fail('%s is not ASCII: %r' % (what, raw))


def find_vmdesc(f, size):
    """The VMDESCRIPTION at the very end of the stream, or None."""
    tail_len = min(size, VMDESC_MAX + 5)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    f.seek(0)
    for pos in range(len(tail) - 5, -1, -1):
        if tail[pos] != QEMU_VM_VMDESCRIPTION:
            continue
        length = struct.unpack('>I', tail[pos + 1:pos + 5])[0]
        if pos + 5 + length != len(tail):
            continue
        try:
            desc = json.loads(tail[pos + 5:].decode('utf-8'))
        except ValueError:
            continue
        if isinstance(desc, dict):
            return desc
    return None


class Decoder:
    def __init__(self, f, size):
        self.r = Reader(f)
        self.vmdesc = find_vmdesc(f, size)
        self.page_size = DEFAULT_PAGE_SIZE
        if self.vmdesc and isinstance(self.vmdesc.get('page_size'), int):
            self.page_size = self.vmdesc['page_size']
        self.out = {'sections': [], 'commands': [], 'devices': []}
        self.known = {}          # section id -> (idstr, instance, version)
        self.ram = None          # block name -> summary, after MEM_SIZE
        self.ram_last_block = None

    # ---- header and configuration ----

    def header(self):
        r = self.r
        magic = r.be32('the magic')
        if magic != QEMU_VM_FILE_MAGIC:
            raise StreamError(0, 'not a migration stream (magic 0x%08x)'
                              % magic)
        version = r.be32('the version')
        if version == QEMU_VM_FILE_VERSION_COMPAT:
            r.fail('SaveVM v2 format is obsolete and not supported')
        if version != QEMU_VM_FILE_VERSION:
            r.fail('unsupported migration stream version %d' % version)
        self.out['header'] = {'magic': 'QEVM', 'version': version}

    def configuration(self):
        r = self.r
        if r.u8('the configuration section') != QEMU_VM_CONFIGURATION:
            r.fail('configuration section missing')
        n = r.be32('the machine type length')
        if n > MACHINE_TYPE_NAME_MAX:
            r.fail('machine type name too long (%d bytes)' % n)
        config = {'machine': r.read(n, 'the machine type').decode(
            'ascii', 'replace')}
        # Subsections (QEMU's capabilities, say) only as the
        # VMDESCRIPTION describes them; ours has none.
        desc = (self.vmdesc or {}).get('configuration')
        subs = desc.get('subsections', []) if isinstance(desc, dict) else []
        if r.peek() == QEMU_VM_SUBSECTION:
            config.update(self.vmsd({'subsections': subs}, top=True))
        self.out['configuration'] = config

    def machine(self, version):
        """Our machine section: be64 RAM size, be32 vCPU count."""
        r = self.r
        if version != MACHINE_SECTION_VERSION:
            r.fail('unknown version %d of section %r'
                   % (version, MACHINE_SECTION))
        config = self.out['configuration']
        config['ram_size'] = r.be64('the RAM size')
        config['vcpus'] = r.be32('the vCPU count')

    # ---- sections ----

    def footer(self, section_id, idstr):
        r = self.r
        if r.u8('a section footer') != QEMU_VM_SECTION_FOOTER:
            r.fail('missing section footer for %s' % idstr)
        got = r.be32('a section footer id')
        if got != section_id:
            r.fail('mismatched section id in footer for %s: read 0x%x, '
                   'expected 0x%x' % (idstr, got, section_id))

    def section(self, stype):
        r = self.r
        start = r.offset - 1
        section_id = r.be32('a section id')
        if stype in (QEMU_VM_SECTION_START, QEMU_VM_SECTION_FULL):
            idstr = r.counted_string('a section name')
            instance = r.be32('an instance id')
            version = r.be32('a version id')
            self.known[section_id] = (idstr, instance, version)
        elif section_id in self.known:
            idstr, instance, version = self.known[section_id]
        else:
            r.fail('%s of unknown section %d'
                   % (SECTION_NAMES[stype], section_id))
        self.out['sections'].append({
            'offset': start, 'type': SECTION_NAMES[stype],
            'section_id': section_id, 'name': idstr,
            'instance_id': instance, 'version': version})
        if idstr == RAM_SECTION:
            self.ram_records()
        elif stype == QEMU_VM_SECTION_FULL and idstr == MACHINE_SECTION:
            self.machine(version)
        elif stype == QEMU_VM_SECTION_FULL:
            self.device(idstr, instance, version)
        else:
            r.fail('cannot decode live section %r: only "ram" is known'
                   % idstr)
        self.footer(section_id, idstr)

    def command(self):
        r = self.r
        start = r.offset - 1
        cmd = r.be16('a command')
        length = r.be16('a command length')
        if cmd not in COMMANDS:
            r.fail('unknown command 0x%x (length %d)' % (cmd, length))
        name, expected = COMMANDS[cmd]
        if length != expected:
            r.fail('%s with length %d, expected %d' % (name, length,
                                                       expected))
        entry = {'offset': start, 'command': name}
        if cmd == 2:
            entry['value'] = r.be32('a PING value')
        self.out['commands'].append(entry)

    # ---- RAM ----

    def ram_block_name(self, flags):
        r = self.r
        if flags & RAM_FLAG_CONTINUE:
            if self.ram_last_block is None:
                r.fail('RAM record continues a block but none came before')
            return self.ram_last_block
        name = r.counted_string('a RAM block name')
        if name not in self.ram:
            r.fail('RAM record for unknown block %r' % name)
        self.ram_last_block = name
        return name

    def ram_mem_size(self, total):
        r = self.r
        self.ram = {}
        self.ram_last_block = None
        seen = 0
        while seen < total:
            name = r.counted_string('a RAM block name')
            size = r.be64('a RAM block size')
            if name in self.ram:
                r.fail('RAM block %r listed twice' % name)
            if size == 0 or size % self.page_size or seen + size > total:
                r.fail('RAM block %r has a bad size 0x%x' % (name, size))
            self.ram[name] = {'size': size, 'pages': 0, 'zero_pages': 0,
                              'page_bytes': 0}
            seen += size

    def ram_records(self):
        r = self.r
        while True:
            header = r.be64('a RAM record')
            flags = header & (self.page_size - 1)
            addr = header & ~(self.page_size - 1)
            if flags & ~RAM_FLAGS_KNOWN:
                r.fail('unknown RAM record flags 0x%x' % flags)
            kind = flags & ~RAM_FLAG_CONTINUE
            if kind == RAM_FLAG_EOS:
                return
            if kind == RAM_FLAG_MEM_SIZE:
                self.ram_mem_size(addr)
                continue
            if kind not in (RAM_FLAG_ZERO, RAM_FLAG_PAGE):
                r.fail('bad RAM record flags 0x%x' % flags)
            if self.ram is None:
                r.fail('RAM page before the block list')
            name = self.ram_block_name(flags)
            block = self.ram[name]
            if addr >= block['size']:
                r.fail('RAM offset 0x%x is outside block %r' % (addr, name))
            if kind == RAM_FLAG_ZERO:
                r.u8('a zero page fill byte')
                block['zero_pages'] += 1
            else:
                r.read(self.page_size, 'a RAM page')
                block['pages'] += 1
                block['page_bytes'] += self.page_size

    # ---- devices ----

    def device(self, idstr, instance, version):
        if self.vmdesc is None:
            self.r.fail('cannot decode device section %r: the stream has '
                        'no VMDESCRIPTION (truncated?)' % idstr)
        for desc in self.vmdesc.get('devices', []):
            if (isinstance(desc, dict) and desc.get('name') == idstr and
                    desc.get('instance_id') == instance):
                break
        else:
            self.r.fail('device %r instance %d is not in the VMDESCRIPTION'
                        % (idstr, instance))
        state = self.vmsd(desc, top=True)
        self.out['devices'].append({'name': idstr, 'instance_id': instance,
                                    'version': version, 'state': state})

    def vmsd(self, desc, top=False):
        r = self.r
        fields = desc.get('fields', [])
        if not isinstance(fields, list):
            r.fail('malformed VMDESCRIPTION: fields of %r'
                   % desc.get('vmsd_name'))
        state = {}
        for fld in fields:
            self.field(fld, state)
        subs = {s.get('vmsd_name'): s for s in desc.get('subsections', [])
                if isinstance(s, dict)}
        while r.peek() == QEMU_VM_SUBSECTION:
            pos = r.f.tell()
            r.u8('a subsection mark')
            name = r.counted_string('a subsection name')
            if name not in subs:
                if not top:
                    # It belongs to an enclosing description.
                    r.f.seek(pos)
                    r.offset = pos
                    break
                r.fail('subsection %r is not in the VMDESCRIPTION' % name)
            r.be32('a subsection version')
            state.setdefault('subsections', {})[name] = self.vmsd(subs[name])
        return state

    def field(self, fld, state):
        if not isinstance(fld, dict) or not isinstance(fld.get('name'), str):
            self.r.fail('malformed VMDESCRIPTION field %r' % (fld,))
        count = fld.get('array_len', 1)
        if not isinstance(count, int) or count < 1:
            self.r.fail('malformed VMDESCRIPTION array_len in %r' % (fld,))
        values = [self.element(fld) for _ in range(count)]
        name = fld['name']
        if 'index' in fld:
            state.setdefault(name, []).append(values[0])
        elif 'array_len' in fld:
            state[name] = values
        else:
            state[name] = values[0]

    def element(self, fld):
        if 'struct' in fld:
            return self.vmsd(fld['struct'])
        size = fld.get('size')
        if not isinstance(size, int) or size < 0 or size > VMDESC_MAX:
            self.r.fail('malformed VMDESCRIPTION size in %r' % (fld,))
        data = self.r.read(size, 'field %s' % fld['name'])
        ftype = fld.get('type', '')
        if ftype == 'bool' and size == 1:
            return bool(data[0])
        if ftype.startswith(('uint', 'int')) and size in (1, 2, 4, 8):
            return int.from_bytes(data, 'big',
                                  signed=ftype.startswith('int'))
        return data.hex()

    # ---- the whole stream ----

    def decode(self):
        r = self.r
        self.header()
        self.configuration()
        while True:
            stype = r.u8('a section type')
            if stype == QEMU_VM_EOF:
                break
            if stype in SECTION_NAMES:
                self.section(stype)
            elif stype == QEMU_VM_COMMAND:
                self.command()
            else:
                r.fail('unknown section type 0x%02x' % stype)
        self.after_eof()
        if self.ram is not None:
            self.out['ram'] = {'page_size': self.page_size,
                               'blocks': self.ram}
        return self.out

    def after_eof(self):
        r = self.r
        mark = r.peek()
        if mark is None:
            return
        if mark != QEMU_VM_VMDESCRIPTION:
            r.fail('unexpected byte 0x%02x after EOF' % mark)
        r.u8('the VMDESCRIPTION mark')
        length = r.be32('the VMDESCRIPTION length')
        if length > VMDESC_MAX:
            r.fail('VMDESCRIPTION too long (%d bytes)' % length)
        text = r.read(length, 'the VMDESCRIPTION')
        try:
            self.out['vmdescription'] = json.loads(text.decode('utf-8'))
        except ValueError as e:
            r.fail('VMDESCRIPTION is not JSON: %s' % e)
        if r.peek() is not None:
            r.fail('data after the VMDESCRIPTION')


def print_text(out):
    h = out['header']
    c = out['configuration']
    print('header: magic %s, version %d' % (h['magic'], h['version']))
    print('configuration: machine %s, RAM %s bytes, %s vCPUs'
          % (c['machine'], c.get('ram_size', '?'), c.get('vcpus', '?')))
    for cmd in out['commands']:
        extra = ' 0x%08x' % cmd['value'] if 'value' in cmd else ''
        print('0x%08x command %s%s' % (cmd['offset'], cmd['command'], extra))
    for s in out['sections']:
        print('0x%08x %-5s section %d %s instance %d version %d'
              % (s['offset'], s['type'], s['section_id'], s['name'],
                 s['instance_id'], s['version']))
    if 'ram' in out:
        print('RAM (page size %d):' % out['ram']['page_size'])
        for name, b in out['ram']['blocks'].items():
            print('  %s: %d bytes, %d pages (%d bytes), %d zero pages'
                  % (name, b['size'], b['pages'], b['page_bytes'],
                     b['zero_pages']))
    for d in out['devices']:
        print('device %s instance %d version %d:'
              % (d['name'], d['instance_id'], d['version']))
        print(json.dumps(d['state'], indent=2))
    if 'vmdescription' in out:
        print('VMDESCRIPTION:')
        print(json.dumps(out['vmdescription'], indent=2))


def main():
    parser = argparse.ArgumentParser(
        description='Decode a saved colo-vm migration stream.')
    parser.add_argument('-f', '--file', dest='file_opt', metavar='FILE',
                        help='the stream (same as the positional FILE)')
    parser.add_argument('file', nargs='?', help='the stream')
    parser.add_argument('--json', action='store_true',
                        help='print everything as one JSON object')
    args = parser.parse_args()
    path = args.file_opt or args.file
    if not path:
        parser.error('a stream file is required')
    prog = os.path.basename(sys.argv[0])
    try:
        with open(path, 'rb') as f:
            size = os.fstat(f.fileno()).st_size
            out = Decoder(f, size).decode()
    except OSError as e:
        print('%s: %s' % (prog, e), file=sys.stderr)
        return 1
    except StreamError as e:
        print('%s: %s: offset 0x%x: %s' % (prog, path, e.offset, e),
              file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print_text(out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
