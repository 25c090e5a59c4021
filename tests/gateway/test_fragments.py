"""The settled-epoch fragment cache: a page is served only when every epoch of it is held, per revision of
settled history; memory stays within its bound, least recently read asset first."""

from __future__ import annotations

from wellhead.gateway.queries.fragments import FragmentCache


def _fill(cache: FragmentCache, asset: int, revision: int, epochs: range, size: int = 10) -> None:
    for e in epochs:
        cache.put(asset, revision, e, (bytes([e % 256]) * size, f'"{asset}-{revision}-{e}"'))


def test_a_run_is_served_only_when_every_epoch_of_it_is_held_at_that_revision() -> None:
    cache = FragmentCache()
    _fill(cache, 1, 0, range(0, 10))
    bodies, tags = cache.run(1, 0, 2, 3) or ([], [])
    assert bodies == [b"\x02" * 10, b"\x03" * 10, b"\x04" * 10] and tags == ['"1-0-2"', '"1-0-3"', '"1-0-4"']
    assert cache.run(1, 0, 8, 3) is None, "epoch 10 is not held"
    assert cache.run(1, 1, 2, 3) is None, "another revision of settled history: nothing of the old one"
    assert cache.run(2, 0, 2, 3) is None
    assert cache.get_many(1, 0, [9, 10, 3]) == {9: (b"\x09" * 10, '"1-0-9"'), 3: (b"\x03" * 10, '"1-0-3"')}


def test_memory_stays_within_the_bound_least_recently_read_asset_first() -> None:
    cache = FragmentCache(max_bytes=100)
    _fill(cache, 1, 0, range(5))  # 50 bytes
    _fill(cache, 2, 0, range(5))  # 100: at the bound, nothing dropped
    assert cache.size == 100 and cache.run(1, 0, 0, 5) is not None and cache.run(2, 0, 0, 5) is not None
    cache.run(1, 0, 0, 1)  # asset 1 read last: asset 2 is the least recently read
    cache.put(3, 0, 0, (b"x" * 10, '"3"'))
    assert cache.size == 60, "asset 2's shelf went, whole"
    assert cache.run(2, 0, 0, 1) is None and cache.run(1, 0, 0, 5) is not None and cache.run(3, 0, 0, 1) is not None
    cache.put(1, 0, 0, (b"y" * 30, '"1-0-0 again"'))  # a fragment rendered again replaces the old one's bytes
    assert cache.size == 80


def test_one_shelf_larger_than_the_bound_loses_its_oldest_fragments() -> None:
    cache = FragmentCache(max_bytes=55)
    _fill(cache, 1, 0, range(5))
    assert cache.size == 50
    cache.put(1, 0, 5, (b"z" * 10, '"5"'))
    assert cache.size == 50, "one fragment dropped to make room, not the whole shelf"
    assert cache.run(1, 0, 0, 1) is None and cache.run(1, 0, 1, 5) is not None
