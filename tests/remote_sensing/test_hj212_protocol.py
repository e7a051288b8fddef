"""HJ 212-2017 framing, CRC and parsing (pure code, no database)."""

from datetime import datetime

import pytest

from supervision.remote_sensing.hj212 import (
    FrameBuffer,
    HJ212BadCRC,
    HJ212BadLength,
    HJ212Malformed,
    ack_build,
    crc16,
    packet_build,
    packet_parse,
    segment_build,
    segment_parse,
)
from supervision.remote_sensing.hj212.protocol import DEVICE_TZ

# The standard's own example (HJ 212-2017, 6.3 / Annex A): CRC 1C80 over the data segment.
PUBLISHED = (
    b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;"
    b"Flag=5;CP=&&RtdInterval=30&&1C80\r\n"
)
HOURLY = (
    "QN=20260301100000001;ST=31;CN=2061;PW=123456;MN=CEMS0001;Flag=5;"
    "CP=&&DataTime=20260301090000;a21026-Avg=35.2,a21026-Min=30.1,a21026-Max=40.9,a21026-Flag=N;"
    "a21002-Avg=80,a21002-Flag=N&&"
)


def test_crc_matches_the_standards_example():
    segment = PUBLISHED[6:-6]
    assert crc16(segment) == 0x1C80
    assert packet_build(segment.decode()) == PUBLISHED


def test_published_packet_parses_and_asks_for_an_ack():
    packet = packet_parse(PUBLISHED)
    assert (packet.qn, packet.st, packet.cn, packet.pw) == ("20160801085857223", "32", "1062", "100000")
    assert packet.mn == "010000A8900016F000169DC0"
    assert packet.flag == 5 and packet.wants_ack
    assert packet.cp == {"RtdInterval": "30"}
    assert packet.values == ()


def test_hourly_values_parse_into_pollutants():
    packet = packet_parse(packet_build(HOURLY))
    assert packet.cn == "2061"
    assert packet.data_time == datetime(2026, 3, 1, 9, tzinfo=DEVICE_TZ)
    so2, nox = packet.values
    assert (so2.code, so2.avg, so2.min, so2.max, so2.flag) == ("a21026", 35.2, 30.1, 40.9, "N")
    assert (nox.code, nox.avg, nox.min, nox.flag) == ("a21002", 80.0, None, "N")


def test_ack_is_cn_9014_with_the_same_qn():
    ack = packet_parse(ack_build(packet_parse(packet_build(HOURLY))))
    assert (ack.cn, ack.st, ack.qn, ack.mn, ack.flag) == ("9014", "91", "20260301100000001", "CEMS0001", 4)
    assert not ack.wants_ack


def test_flag_4_asks_for_no_ack():
    assert not packet_parse(packet_build(HOURLY.replace("Flag=5", "Flag=4"))).wants_ack


def test_bad_crc_is_refused():
    frame = bytearray(packet_build(HOURLY))
    frame[-6:-2] = b"0000" if frame[-6:-2] != b"0000" else b"FFFF"
    with pytest.raises(HJ212BadCRC):
        packet_parse(bytes(frame))


def test_altered_segment_fails_the_crc():
    frame = packet_build(HOURLY).replace(b"a21026-Avg=35.2", b"a21026-Avg=15.2")
    with pytest.raises(HJ212BadCRC):
        packet_parse(frame)


def test_bad_length_is_refused():
    frame = packet_build(HOURLY)
    wrong = b"##%04d" % (int(frame[2:6]) + 1) + frame[6:]
    with pytest.raises(HJ212BadLength):
        packet_parse(wrong)
    with pytest.raises(HJ212BadLength):
        packet_parse(b"##01x1" + frame[6:])


@pytest.mark.parametrize(
    "segment",
    [
        "QN=1;ST=31;CN=2061;PW=1;MN=X;Flag=5",  # no CP
        "QN=1;ST=31;CN=2061;PW=1;MN=X;Flag=5;CP=&&DataTime=20260301090000",  # CP not closed
        "QN=1;ST=31;CN=2061;PW=1;Flag=5;CP=&&&&",  # no MN
        "QN=1;ST=31;CN=20x1;PW=1;MN=X;Flag=5;CP=&&&&",  # CN not a number
        "QN=1;ST31;CN=2061;PW=1;MN=X;Flag=5;CP=&&&&",  # not KEY=VALUE
        "QN=1;ST=31;CN=2061;PW=1;MN=X;Flag=5;CP=&&DataTime=2026030109;a21026-Avg=1&&",  # bad DataTime
        "QN=1;ST=31;CN=2061;PW=1;MN=X;Flag=5;CP=&&DataTime=20260301090000;a21026-Avg=abc&&",  # bad value
    ],
)
def test_malformed_segments_are_refused(segment):
    with pytest.raises(HJ212Malformed):
        segment_parse(segment)
    # Framing is fine, so the error comes from the segment, not the CRC.
    with pytest.raises(HJ212Malformed):
        packet_parse(packet_build(segment))


def test_frame_buffer_joins_split_packets_and_cuts_several_in_one_read():
    one = packet_build(HOURLY)
    two = packet_build(segment_build(qn="2", st="31", cn="2051", pw="1", mn="M2", flag=4, cp="a21026-Avg=1"))
    stream = b"noise" + one + two + one
    buffer = FrameBuffer()
    got = []
    for i in range(0, len(stream), 7):  # 7-byte reads split every packet somewhere
        got += buffer.feed(stream[i : i + 7])
    assert [segment_parse(s).mn for s in got] == ["CEMS0001", "M2", "CEMS0001"]
    assert buffer.skipped_bytes == len(b"noise")
    assert buffer.feed(one + two) == [HOURLY, two[6:-6].decode()]


def test_frame_buffer_reports_a_bad_packet_and_resumes():
    good = packet_build(HOURLY)
    bad_crc = good[:-6] + b"0000\r\n"
    short = b"##0999" + good[6:]  # length runs past the packet: resync after its ##
    buffer = FrameBuffer()
    got = buffer.feed(bad_crc + good)
    assert isinstance(got[0], HJ212BadCRC) and got[1] == HOURLY
    got = buffer.feed(b"##ab12" + good)
    assert isinstance(got[0], HJ212BadLength) and got[1] == HOURLY
    got = buffer.feed(short + good * 10)
    assert isinstance(got[0], HJ212BadLength)
    assert HOURLY in got
