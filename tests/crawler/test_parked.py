"""Parked lists: items kept in a temporary file a chunk at a time, read back in order."""

from __future__ import annotations

from decimal import Decimal

from shelfcheck.catalog.offerings import FeeData, OfferingData
from shelfcheck.crawler.parked import CHUNK, Parked


def test_items_come_back_in_order_across_chunks_once() -> None:
    parked: Parked[OfferingData] = Parked()
    records = [OfferingData(title=f"Course {i}", url=f"https://p.example/{i}",
                            fees=[FeeData("member", Decimal("10.00"), "USD", "$10")])
               for i in range(2 * CHUNK + 7)]
    for record in records:
        parked.append(record)
    assert parked.count == len(records)
    assert parked.take() == records  # equal, not the same objects: they went to disk
    assert parked.take() == [] and parked.count == 0


def test_a_short_list_stays_in_memory() -> None:
    parked = Parked(["a", "b"])
    assert parked._file is None
    assert parked.take() == ["a", "b"]
