"""Tiny writers for legacy Office files (no Word/Excel here to make fixtures with).

``compound_file`` writes an OLE2 compound file (v3, 512-byte sectors, every stream
padded past the 4096-byte mini-stream cutoff so only the main FAT is needed);
``word97`` and ``biff8_workbook`` build just enough of MS-DOC / MS-XLS for readers.
"""

from __future__ import annotations

import struct

END, FREE, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _dir_entry(name: str, kind: int, start: int, size: int, *, right: int = NOSTREAM,
               child: int = NOSTREAM) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", NOSTREAM, right, child) + b"\0" * 16 + b"\0" * 4 + b"\0" * 16
            + struct.pack("<IQ", start, size))


def compound_file(streams: dict[str, bytes]) -> bytes:
    sectors: list[bytes] = []
    fat: list[int] = []
    entries = []
    names = list(streams)
    for index, name in enumerate(names):
        data = streams[name].ljust(4096, b"\0")
        data += b"\0" * (-len(data) % 512)
        start = len(sectors)
        count = len(data) // 512
        for i in range(count):
            sectors.append(data[i * 512:(i + 1) * 512])
            fat.append(start + i + 1 if i < count - 1 else END)
        entries.append(_dir_entry(name, 2, start, len(data),
                                  right=index + 2 if index + 1 < len(names) else NOSTREAM))
    directory = _dir_entry("Root Entry", 5, END, 0, child=1 if names else NOSTREAM) + b"".join(entries)
    directory += _dir_entry("", 0, 0, 0) * (-(len(directory) // 128) % 4)
    dir_start = len(sectors)
    dir_count = len(directory) // 512
    for i in range(dir_count):
        sectors.append(directory[i * 512:(i + 1) * 512])
        fat.append(dir_start + i + 1 if i < dir_count - 1 else END)
    fat_sectors = 1
    while (len(fat) + fat_sectors) > fat_sectors * 128:
        fat_sectors += 1
    fat_start = len(sectors)
    fat.extend([FATSECT] * fat_sectors)
    fat.extend([FREE] * (fat_sectors * 128 - len(fat)))
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    sectors.extend(fat_bytes[i * 512:(i + 1) * 512] for i in range(fat_sectors))
    difat = [fat_start + i for i in range(fat_sectors)] + [FREE] * (109 - fat_sectors)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, fat_sectors, dir_start, 0, 4096, END, 0, END, 0)
              + struct.pack("<109I", *difat))
    assert len(header) == 512
    return header + b"".join(sectors)


def word97(text: str, *, extra_streams: dict[str, bytes] | None = None) -> bytes:
    """A .doc whose piece table holds ``text`` as one UTF-16LE piece."""
    fib = bytearray(0x800)
    struct.pack_into("<HH", fib, 0, 0xA5EC, 0x00C1)
    struct.pack_into("<H", fib, 0x0A, 0x0200)  # fWhichTblStm: the table stream is "1Table"
    struct.pack_into("<H", fib, 32, 14)
    struct.pack_into("<H", fib, 62, 22)
    struct.pack_into("<H", fib, 152, 93)
    encoded = text.encode("utf-16-le")
    plc = struct.pack("<II", 0, len(text)) + struct.pack("<HIH", 0, 0x800, 0)
    clx = b"\x02" + struct.pack("<I", len(plc)) + plc
    struct.pack_into("<II", fib, 0x1A2, 0, len(clx))
    streams = {"WordDocument": bytes(fib) + encoded, "1Table": clx, **(extra_streams or {})}
    return compound_file(streams)


def _record(rtype: int, data: bytes) -> bytes:
    return struct.pack("<HH", rtype, len(data)) + data


def _bof(kind: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 0x06))


def biff8_workbook(sheet: str, rows: list[list[str | float]]) -> bytes:
    """An .xls with one sheet of LABEL (UTF-16) and NUMBER cells."""
    name = sheet.encode("utf-16-le")
    cells = b""
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, str):
                cells += _record(0x0204, struct.pack("<HHHHB", r, c, 0, len(value), 1) + value.encode("utf-16-le"))
            else:
                cells += _record(0x0203, struct.pack("<HHHd", r, c, 0, float(value)))
    dims = _record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, max(len(r) for r in rows), 0))
    sheet_stream = _bof(0x0010) + dims + cells + _record(0x000A, b"")
    boundsheet_len = 4 + 8 + len(name)
    globals_len = len(_bof(0x0005)) + len(_record(0x0042, b"\0\0")) + boundsheet_len + 4
    boundsheet = _record(0x0085, struct.pack("<IHBB", globals_len, 0, len(sheet), 1) + name)
    globals_stream = _bof(0x0005) + _record(0x0042, struct.pack("<H", 1200)) + boundsheet + _record(0x000A, b"")
    assert len(globals_stream) == globals_len
    return compound_file({"Workbook": globals_stream + sheet_stream})
