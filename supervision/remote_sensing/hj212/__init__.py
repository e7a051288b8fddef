"""HJ 212-2017 (污染物在线监控（监测）系统数据传输标准): framing, CRC, parsing, replies.

Pure code: bytes in, dataclasses out, `HJ212Error` family raised. No Django here, so the
receiver, the tests and the benchmark use it alone.
"""

from .protocol import (
    ACK_CN,
    HEADER,
    TRAILER,
    FrameBuffer,
    HJ212BadCRC,
    HJ212BadLength,
    HJ212Error,
    HJ212Malformed,
    Packet,
    PollutantValue,
    ack_build,
    crc16,
    frame_check,
    packet_build,
    packet_parse,
    segment_build,
    segment_parse,
)

__all__ = [
    "ACK_CN",
    "HEADER",
    "TRAILER",
    "FrameBuffer",
    "HJ212BadCRC",
    "HJ212BadLength",
    "HJ212Error",
    "HJ212Malformed",
    "Packet",
    "PollutantValue",
    "ack_build",
    "crc16",
    "frame_check",
    "packet_build",
    "packet_parse",
    "segment_build",
    "segment_parse",
]
