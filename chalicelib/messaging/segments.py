"""SMS segment counts: GSM-7 (160 characters, 153 per part) or UCS-2 (70, 67 per part).

Characters of the GSM-7 extension table take two septets. A text with any character outside
both GSM-7 tables is sent as UCS-2, where characters outside the Basic Multilingual Plane take
two code units.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    encoding: str
    units: int
    count: int


def sms_segments(text: str) -> Segments:
    """How many SMS parts ``text`` takes, and in which encoding."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    if units == 0:
        count = 0
    elif units <= single:
        count = 1
    else:
        count = -(-units // part)
    return Segments(encoding=encoding, units=units, count=count)
