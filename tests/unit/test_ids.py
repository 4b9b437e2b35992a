"""Ids: a kind prefix, then a time part and a random part, sortable by creation time."""

from __future__ import annotations

import re
import time

from chalicelib.ids import new_id

ID = re.compile(r"con_[0-9a-hjkmnp-tv-z]{26}")


def test_an_id_is_the_prefix_and_26_crockford_characters() -> None:
    assert ID.fullmatch(new_id("con"))


def test_the_prefix_is_whatever_the_kind_asks_for() -> None:
    assert new_id("flw").startswith("flw_")
    assert new_id("key").startswith("key_")


def test_ten_thousand_ids_are_all_different() -> None:
    ids = [new_id("con") for _ in range(10_000)]

    assert len(set(ids)) == 10_000
    assert all(ID.fullmatch(i) for i in ids)


def _next_millisecond() -> None:
    start = time.time_ns() // 1_000_000
    while time.time_ns() // 1_000_000 <= start + 1:
        pass


def test_an_id_made_later_sorts_after_an_earlier_one() -> None:
    earlier = []
    for _ in range(5):
        earlier.append(new_id("con"))
        _next_millisecond()
    later = new_id("con")

    assert earlier == sorted(earlier)
    assert all(e < later for e in earlier)


def test_the_time_part_grows_and_the_random_part_differs() -> None:
    first = new_id("con")
    _next_millisecond()
    second = new_id("con")

    assert first[4:14] < second[4:14]
    assert first[14:] != second[14:]


def test_the_time_part_encodes_the_clock_in_milliseconds() -> None:
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    before = time.time_ns() // 1_000_000
    time_part = new_id("con")[4:14]
    after = time.time_ns() // 1_000_000

    millis = 0
    for char in time_part:
        millis = millis * 32 + alphabet.index(char)

    assert before <= millis <= after
