#
# The rules by which QEMU's scripts/analyze-migration.py reads a
# migration stream, written down on their own so that a test can hold
# our streams against them without QEMU's script at hand.  Two
# generations of the script differ in ways that matter to a stream
# writer; both are modelled:
#
# '7.2'      the script as shipped with QEMU 7.2 (unchanged from 6.2 to
#            8.1): the configuration section is a be32 length and the
#            machine name, nothing more; a block list in the RAM section
#            ends at the first zero length byte; commands are unknown
#            section types.
# 'current'  the script since 8.2: the configuration is read through the
#            VMDESCRIPTION's "configuration" entry when there is one (its
#            fields, then every subsection it lists), otherwise as in
#            7.2; a block list ends once the block sizes add up to the
#            total; the only command accepted is SWITCHOVER_START with
#            no payload; RAM records may carry MULTIFD_FLUSH.
#
# Common to both:
# - The VMDESCRIPTION is found before anything else, from the end of
#   the file: within its last 10 MiB, the JSON starts at the first '{'
#   after the last zero byte; the byte five before it must be 0x06 and
#   the four after that its length.
# - The header is magic "QEVM" and version 3.
# - Sections are looked up by (id string, instance id): "ram" (version
#   4) is known, every other one must be a device of the VMDESCRIPTION.
#   PART and END name a section id a START introduced.  A footer (0x7e)
#   is read as a section of its own and must carry the id of the last
#   section read.  EOF ends the stream.
# - A device is read field by field as its description says: an
#   "array_len" field stands for that many copies, a "struct" field is
#   read through its own description, bool/intN/uintN are integers of
#   "size" bytes (big-endian, whatever the name says), anything else is
#   "size" raw bytes.  A description without "fields" is refused.  Then every
#   subsection the description lists, in that order, must follow: 0x05,
#   a u8-counted name, be32 version, and its fields.
# - RAM records are be64 "offset | flags", the flags below the page size
#   of the VMDESCRIPTION: MEM_SIZE (block list), ZERO (name unless
#   CONTINUE, one fill byte), PAGE (name unless CONTINUE, one page),
#   EOS (end of the section); XBZRLE and HOOK are refused, as is any
#   flag left over.
#
# This is not QEMU's code: it states what that code accepts, so that a
# stream which passes here is read to its end by the real script.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import json
import struct

GENERATIONS = ('7.2', 'current')

MAGIC = 0x5145564d
VERSION = 3

EOF = 0x00
SECTION_START = 0x01
SECTION_PART = 0x02
SECTION_END = 0x03
SECTION_FULL = 0x04
SUBSECTION = 0x05
VMDESCRIPTION = 0x06
CONFIGURATION = 0x07
COMMAND = 0x08
FOOTER = 0x7e
CMD_SWITCHOVER_START = 0x0b

RAM_ZERO = 0x02
RAM_MEM_SIZE = 0x04
RAM_PAGE = 0x08
RAM_EOS = 0x10
RAM_CONTINUE = 0x20
RAM_XBZRLE = 0x40
RAM_HOOK = 0x80
RAM_MULTIFD_FLUSH = 0x200

DESCRIPTION_WINDOW = 10 * 1024 * 1024


class RulesError(Exception):
    """The stream breaks one of the rules; the offset says where."""

    def __init__(self, offset, message):
        super().__init__('offset 0x%x: %s' % (offset, message))
        self.offset = offset


class Cursor:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def fail(self, message):
        raise RulesError(self.pos, message)

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            self.fail('the stream ends %d bytes into a read of %d'
                      % (len(self.data) - self.pos, n))
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def u8(self):
        return self.take(1)[0]

    def be16(self):
        return struct.unpack('>H', self.take(2))[0]

    def be32(self):
        return struct.unpack('>I', self.take(4))[0]

    def be64(self):
        return struct.unpack('>Q', self.take(8))[0]

    def counted(self):
        return self.take(self.u8()).decode('utf-8')


def find_description(data):
    """The VMDESCRIPTION as QEMU's script finds it: (offset of 0x06, JSON)."""
    start = max(0, len(data) - DESCRIPTION_WINDOW)
    tail = data[start:]
    last_zero = tail.rfind(b'\0')
    brace = tail.find(b'{', last_zero)
    if last_zero < 0 or brace < 0 or brace < 5:
        raise RulesError(len(data), 'no zero byte followed by a JSON '
                         'object near the end of the stream')
    mark = start + brace - 5
    if data[mark] != VMDESCRIPTION:
        raise RulesError(mark, 'the byte before the length of the JSON '
                         'found at 0x%x is 0x%02x, not VMDESCRIPTION'
                         % (start + brace, data[mark]))
    length = struct.unpack('>I', data[mark + 1:mark + 5])[0]
    text = data[start + brace:start + brace + length]
    try:
        desc = json.loads(text.decode('utf-8'))
    except ValueError as e:
        raise RulesError(start + brace, 'the VMDESCRIPTION is not JSON: %s'
                         % e)
    return mark, desc


class Reader:
    """One pass over a stream, under the rules of one generation."""

    def __init__(self, data, generation):
        if generation not in GENERATIONS:
            raise ValueError('unknown generation %r' % generation)
        self.generation = generation
        self.c = Cursor(data)
        self.desc_offset, self.desc = find_description(data)
        self.page_size = self.desc['page_size']
        self.devices = {}
        for dev in self.desc['devices']:
            if generation == 'current' and 'fields' not in dev:
                self.c.fail('device %s has no fields in the VMDESCRIPTION'
                            % dev['name'])
            self.devices[(dev['name'], dev['instance_id'])] = dev
        self.configuration = None
        self.sections = {}          # section id -> Section
        self.ram = {}               # block name -> bytearray
        self.ram_block = None       # block of the last page record
        self.commands = []
        self.eof_offset = None

    # ---- the whole stream ----

    def read(self):
        c = self.c
        if c.be32() != MAGIC:
            c.fail('bad magic')
        if c.be32() != VERSION:
            c.fail('bad version')
        last_id = None
        while True:
            at = c.pos
            kind = c.u8()
            if kind == EOF:
                self.eof_offset = at
                return self
            if kind == CONFIGURATION:
                self.read_configuration()
            elif kind in (SECTION_START, SECTION_FULL):
                last_id = self.read_section_start()
            elif kind in (SECTION_PART, SECTION_END):
                last_id = c.be32()
                if last_id not in self.sections:
                    c.fail('PART/END of section %d, which never started'
                           % last_id)
                self.sections[last_id].read_more(self)
            elif kind == FOOTER:
                got = c.be32()
                if got != last_id:
                    c.fail('footer of section %d after section %s'
                           % (got, last_id))
            elif kind == COMMAND and self.generation == 'current':
                self.read_command()
            else:
                raise RulesError(at, 'Unknown section type: %d' % kind)

    def read_configuration(self):
        conf = self.desc.get('configuration')
        if self.generation == 'current' and conf:
            self.configuration = self.read_vmsd(conf)
        else:
            length = self.c.be32()
            self.configuration = {'name': self.c.take(length)}

    def read_command(self):
        c = self.c
        cmd = c.be16()
        length = c.be16()
        if cmd != CMD_SWITCHOVER_START or length != 0:
            c.fail('command 0x%x (length %d) is not SWITCHOVER_START'
                   % (cmd, length))
        self.commands.append(cmd)

    def read_section_start(self):
        c = self.c
        section_id = c.be32()
        name = c.counted()
        instance = c.be32()
        version = c.be32()
        if (name, instance) == ('ram', 0):
            if version != 4:
                c.fail('RAM section version %d, not 4' % version)
            section = RamSection(name, instance, version)
        elif (name, instance) in self.devices:
            section = DeviceSection(name, instance, version,
                                    self.devices[(name, instance)])
        else:
            c.fail('section %r instance %d is neither "ram" nor a device '
                   'of the VMDESCRIPTION' % (name, instance))
        self.sections[section_id] = section
        section.read_more(self)
        return section_id

    # ---- devices ----

    def read_vmsd(self, desc):
        """Fields, then the subsections @desc lists: a dict by name."""
        c = self.c
        if 'fields' not in desc:
            c.fail('description %r has no fields' % desc.get('vmsd_name'))
        state = {}
        for field in unfold(desc['fields']):
            value = self.read_field(field)
            name = field['name']
            if 'index' in field:
                values = state.setdefault(name, [])
                if self.generation == '7.2' and \
                        len(values) != field['index']:
                    c.fail('element %d of %s out of order'
                           % (field['index'], name))
                values.append(value)
            else:
                state[name] = value
        for sub in desc.get('subsections', []):
            if c.u8() != SUBSECTION:
                c.fail('subsection %s not found' % sub.get('vmsd_name'))
            name = c.counted()
            c.be32()                            # its version
            state[name] = self.read_vmsd(sub)
        return state

    def read_field(self, field):
        ftype = field['type']
        if ftype == 'struct':
            return self.read_vmsd(field['struct'])
        raw = self.c.take(int(field['size']))
        if ftype == 'bool':
            return raw[0] != 0
        if ftype.startswith('int'):
            return int.from_bytes(raw, 'big', signed=True)
        if ftype.startswith('uint'):
            return int.from_bytes(raw, 'big', signed=False)
        return raw

    # ---- RAM ----

    def read_ram_records(self):
        c = self.c
        mask = self.page_size - 1
        while True:
            header = c.be64()
            flags = header & mask
            addr = header & ~mask
            if flags & RAM_MEM_SIZE:
                self.read_block_list(addr)
                flags &= ~RAM_MEM_SIZE
            if flags & RAM_ZERO:
                block = self.record_block(flags)
                fill = c.u8()
                if fill != 0 and self.generation == '7.2':
                    # 7.2's -x writes such a page as text: it fails.
                    c.fail('zero page record with fill byte 0x%02x' % fill)
                self.store_page(block, addr, bytes([fill]) * self.page_size)
                flags &= ~(RAM_ZERO | RAM_CONTINUE)
            elif flags & RAM_PAGE:
                block = self.record_block(flags)
                self.store_page(block, addr, c.take(self.page_size))
                flags &= ~(RAM_PAGE | RAM_CONTINUE)
            elif flags & (RAM_XBZRLE | RAM_HOOK):
                c.fail('XBZRLE or HOOK RAM record')
            if self.generation == 'current' and flags & RAM_MULTIFD_FLUSH:
                continue
            if flags & RAM_EOS:
                return
            if flags:
                c.fail('unknown RAM record flags 0x%x' % flags)

    def read_block_list(self, total):
        c = self.c
        if self.generation == '7.2':
            # Names until a zero length byte, which is left unread.
            while c.pos < len(c.data) and c.data[c.pos] != 0:
                self.add_block(c.counted(), c.be64())
        else:
            while total > 0:
                name = c.counted()
                size = c.be64()
                self.add_block(name, size)
                total -= size

    def add_block(self, name, size):
        self.ram[name] = bytearray(size)

    def record_block(self, flags):
        if not flags & RAM_CONTINUE:
            self.ram_block = self.c.counted()
        if self.ram_block not in self.ram:
            self.c.fail('page of block %r, which the block list lacks'
                        % self.ram_block)
        return self.ram_block

    def store_page(self, block, addr, page):
        mem = self.ram[block]
        if addr + len(page) > len(mem):
            self.c.fail('page at 0x%x is outside block %r' % (addr, block))
        mem[addr:addr + len(page)] = page


def unfold(fields):
    """An "array_len" field stands for that many indexed copies."""
    out = []
    for field in fields:
        if 'array_len' not in field:
            out.append(field)
            continue
        for i in range(field['array_len']):
            copy = dict(field)
            del copy['array_len']
            copy['index'] = i
            out.append(copy)
    return out


class RamSection:
    def __init__(self, name, instance, version):
        self.name, self.instance, self.version = name, instance, version
        self.state = None

    def read_more(self, reader):
        reader.read_ram_records()


class DeviceSection:
    def __init__(self, name, instance, version, desc):
        self.name, self.instance, self.version = name, instance, version
        self.desc = desc
        self.state = None

    def read_more(self, reader):
        if self.state is not None:
            reader.c.fail('device section %s read twice' % self.name)
        self.state = reader.read_vmsd(self.desc)


def read_stream(data, generation):
    """Read @data under @generation's rules; the Reader, or RulesError."""
    return Reader(data, generation).read()
