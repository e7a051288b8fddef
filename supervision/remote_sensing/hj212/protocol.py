"""HJ 212-2017 packets: `##` + 4-digit decimal length + data segment + 4-hex CRC16 + CRLF.

The data segment is `QN=…;ST=…;CN=…;PW=…;MN=…;Flag=…;CP=&&…&&`. Inside CP, one
pollutant's fields are joined by `,` and pollutants by `;` (`a21026-Avg=12.5,a21026-Flag=N`).
Flag bit 0 (A) asks for a data acknowledgement (CN=9014); bit 1 (D) marks a split packet.
The CRC is the one of the standard's Annex A, over the data segment's bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

HEADER = b"##"
TRAILER = b"\r\n"
LENGTH_DIGITS = 4
CRC_DIGITS = 4
# 4 decimal digits cap the data segment; the standard allows 0-1024 but real devices send more.
MAX_SEGMENT = 9999
ACK_CN = "9014"
FLAG_ACK = 0b01
FLAG_SPLIT = 0b10
# DataTime and QN are Beijing time (the standard names no zone; every platform reads them so).
DEVICE_TZ = ZoneInfo("Asia/Shanghai")
# A CP key `code-Kind` → the index of its field in PollutantValue.
_VALUE_INDEX = {"Avg": 1, "Min": 2, "Max": 3, "Rtd": 4, "Cou": 5, "Flag": 6}
_FLAG_INDEX = 6
_DATA_TIMES: dict[str, datetime] = {}
_DATA_TIMES_MAX = 4096
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class HJ212Error(ValueError):
    """A packet that cannot be accepted; `code` says why (bad_crc, bad_length, malformed)."""

    code = "malformed"


class HJ212BadCRC(HJ212Error):
    code = "bad_crc"


class HJ212BadLength(HJ212Error):
    code = "bad_length"


class HJ212Malformed(HJ212Error):
    code = "malformed"


def _crc_table() -> tuple[int, ...]:
    # Annex A: crc = (crc >> 8) ^ byte, then 8 rounds of shift right / xor 0xA001 on bit 0.
    # (crc >> 8) ^ byte is below 256, so the 8 rounds depend on it alone: one table lookup.
    table = []
    for value in range(256):
        crc = value
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """The HJ 212-2017 Annex A CRC16 of `data` (initial value 0xFFFF)."""
    crc = 0xFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc >> 8) ^ byte]
    return crc


class PollutantValue(NamedTuple):
    """One pollutant's values in a CP section (mg/m³ etc. as the device sends them)."""

    code: str
    avg: float | None = None
    min: float | None = None
    max: float | None = None
    rtd: float | None = None
    cou: float | None = None
    flag: str = ""


@dataclass(frozen=True)
class Packet:
    """One parsed data segment."""

    qn: str
    st: str
    cn: str
    pw: str
    mn: str
    flag: int
    cp: dict[str, str] = field(default_factory=dict)
    data_time: datetime | None = None
    values: tuple[PollutantValue, ...] = ()
    segment: str = ""

    @property
    def wants_ack(self) -> bool:
        return bool(self.flag & FLAG_ACK)


def segment_parse(segment: str) -> Packet:
    """Parse a data segment into a Packet; raise HJ212Malformed naming what is wrong."""
    cp_at = segment.find("CP=&&")
    if cp_at < 0:
        raise HJ212Malformed("data segment has no CP=&&…&& section")
    if not segment.endswith("&&") or len(segment) < cp_at + len("CP=&&&&"):
        raise HJ212Malformed("CP section does not end with &&")
    head = segment[:cp_at].rstrip(";")
    body = segment[cp_at + len("CP=&&") : -2]
    fields: dict[str, str] = {}
    for part in head.split(";") if head else ():
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise HJ212Malformed(f"field '{part[:40]}' is not KEY=VALUE")
        if key in fields:
            raise HJ212Malformed(f"field {key} repeats")
        fields[key] = value
    for key in ("ST", "CN", "MN"):
        if not fields.get(key):
            raise HJ212Malformed(f"field {key} is missing")
    if not fields["CN"].isdigit():
        raise HJ212Malformed(f"CN '{fields['CN'][:10]}' is not a number")
    flag_text = fields.get("Flag", "0")
    if not flag_text.isdigit():
        raise HJ212Malformed(f"Flag '{flag_text[:10]}' is not a number")
    cp: dict[str, str] = {}
    if body:
        for part in body.replace(",", ";").split(";"):
            key, sep, value = part.partition("=")
            if not sep or not key:
                raise HJ212Malformed(f"CP item '{part[:40]}' is not KEY=VALUE")
            cp[key] = value
    data_time = _data_time(cp["DataTime"]) if "DataTime" in cp else None
    return Packet(
        qn=fields.get("QN", ""),
        st=fields["ST"],
        cn=fields["CN"],
        pw=fields.get("PW", ""),
        mn=fields["MN"],
        flag=int(flag_text),
        cp=cp,
        data_time=data_time,
        values=_values(cp),
        segment=segment,
    )


def _data_time(text: str) -> datetime:
    # Devices report the same hours and minutes: parse each DataTime text once (bounded cache).
    at = _DATA_TIMES.get(text)
    if at is None:
        try:
            at = datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=DEVICE_TZ)
        except ValueError:
            raise HJ212Malformed(f"DataTime '{text[:20]}' is not YYYYMMDDhhmmss") from None
        if len(_DATA_TIMES) >= _DATA_TIMES_MAX:
            _DATA_TIMES.clear()
        _DATA_TIMES[text] = at
    return at


def _values(cp: dict[str, str]) -> tuple[PollutantValue, ...]:
    # code → [code, avg, min, max, rtd, cou, flag]: PollutantValue's fields in order.
    by_code: dict[str, list] = {}
    for key, value in cp.items():
        code, sep, kind = key.rpartition("-")
        index = _VALUE_INDEX.get(kind)
        if index is None or not code:
            continue  # DataTime, RtdInterval, SB… states: not pollutant values
        slot = by_code.get(code)
        if slot is None:
            slot = by_code[code] = [code, None, None, None, None, None, ""]
        if index == _FLAG_INDEX:
            slot[index] = value
            continue
        if not _NUMBER.fullmatch(value):
            raise HJ212Malformed(f"{key} '{value[:20]}' is not a number")
        slot[index] = float(value)
    return tuple(PollutantValue._make(slot) for slot in by_code.values())


def frame_check(frame: bytes) -> str:
    """The data segment of one whole packet (`##…\\r\\n`), after checking length and CRC."""
    if not frame.startswith(HEADER) or not frame.endswith(TRAILER):
        raise HJ212Malformed("packet does not start with ## and end with CRLF")
    length_text = frame[2 : 2 + LENGTH_DIGITS]
    if not length_text.isdigit() or len(length_text) != LENGTH_DIGITS:
        raise HJ212BadLength(f"length field {length_text!r} is not 4 decimal digits")
    length = int(length_text)
    segment = frame[2 + LENGTH_DIGITS : -(CRC_DIGITS + len(TRAILER))]
    if len(segment) != length:
        raise HJ212BadLength(f"length field says {length} bytes, data segment has {len(segment)}")
    return _segment_check(segment, frame[-(CRC_DIGITS + len(TRAILER)) : -len(TRAILER)])


def _segment_check(segment: bytes, crc_text: bytes) -> str:
    try:
        sent = int(crc_text, 16)
    except ValueError:
        raise HJ212BadCRC(f"CRC field {crc_text!r} is not 4 hex digits") from None
    computed = crc16(segment)
    if sent != computed:
        raise HJ212BadCRC(f"CRC {crc_text.decode('ascii', 'replace')} does not match {computed:04X}")
    try:
        return segment.decode("utf-8")
    except UnicodeDecodeError:
        raise HJ212Malformed("data segment is not ASCII/UTF-8 text") from None


def packet_parse(frame: bytes) -> Packet:
    """Check and parse one whole packet."""
    return segment_parse(frame_check(frame))


def packet_build(segment: str) -> bytes:
    """Frame a data segment: header, length, segment, CRC, trailer."""
    data = segment.encode("utf-8")
    if len(data) > MAX_SEGMENT:
        raise HJ212BadLength(f"data segment of {len(data)} bytes exceeds {MAX_SEGMENT}")
    return b"%s%04d%s%04X%s" % (HEADER, len(data), data, crc16(data), TRAILER)


def segment_build(*, qn: str, st: str, cn: str, pw: str, mn: str, flag: int, cp: str) -> str:
    """A data segment from its fields; `cp` is the text between `CP=&&` and `&&`."""
    qn_part = f"QN={qn};" if qn else ""
    return f"{qn_part}ST={st};CN={cn};PW={pw};MN={mn};Flag={flag};CP=&&{cp}&&"


def ack_build(packet: Packet) -> bytes:
    """The CN=9014 data acknowledgement of `packet` (ST=91 system interaction, same QN)."""
    return packet_build(segment_build(qn=packet.qn, st="91", cn=ACK_CN, pw=packet.pw, mn=packet.mn, flag=4, cp=""))


@dataclass
class FrameBuffer:
    """Cut packets out of a byte stream that may split them or deliver several per read.

    `feed` returns, in order, each whole packet's data segment (str, length and CRC
    checked) or the HJ212Error that refused it. Bytes before a `##` are skipped; a
    packet whose trailer is not where its length says is refused and the search resumes
    after its `##`. The buffer never holds more than one maximal packet.
    """

    data: bytearray = field(default_factory=bytearray)
    skipped_bytes: int = 0

    def feed(self, chunk: bytes) -> list[str | HJ212Error]:
        buf = self.data
        buf += chunk
        out: list[str | HJ212Error] = []
        while True:
            start = buf.find(HEADER)
            if start < 0:
                # Keep a trailing '#' that may start the next header.
                keep = 1 if buf.endswith(b"#") else 0
                self.skipped_bytes += len(buf) - keep
                del buf[: len(buf) - keep]
                return out
            if start:
                self.skipped_bytes += start
                del buf[:start]
            if len(buf) < 2 + LENGTH_DIGITS:
                return out
            length_text = bytes(buf[2 : 2 + LENGTH_DIGITS])
            if not length_text.isdigit():
                out.append(HJ212BadLength(f"length field {length_text!r} is not 4 decimal digits"))
                del buf[:2]
                continue
            length = int(length_text)
            end = 2 + LENGTH_DIGITS + length + CRC_DIGITS + len(TRAILER)
            if len(buf) < end:
                return out
            if buf[end - len(TRAILER) : end] != TRAILER:
                out.append(HJ212BadLength(f"length field says {length} bytes but no CRLF follows the CRC"))
                del buf[:2]
                continue
            segment = bytes(buf[2 + LENGTH_DIGITS : 2 + LENGTH_DIGITS + length])
            crc_text = bytes(buf[end - len(TRAILER) - CRC_DIGITS : end - len(TRAILER)])
            del buf[:end]
            try:
                out.append(_segment_check(segment, crc_text))
            except HJ212Error as exc:
                out.append(exc)
