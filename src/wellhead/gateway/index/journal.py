"""The undo journal: projection rows as they stood before each recent block's events, so that a reorg
restores the rows the orphaned blocks changed instead of replaying all history.

While a batch applies events, `Journal.touch` takes a row's image the first time an event of a block reaches
it (before the handler changes it; a row the block creates has no image). When the batch is written, an image
equal to the row's state after that block (the next image, or the final row) is dropped: the block did not
change the row. Only blocks within the indexer's journal depth of the chain's head are journaled; the index
state `undo_from` is the first block from which every indexed block is, so a reorg whose common ancestor is at
or after `undo_from - 1` can be undone from the journal, and a deeper one replays everything (as before).

To undo back to block A: the earliest image of each row after A is the row as it stood at A (every later
change came after it); the journal's records after A are then deleted with the orphaned events.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from wellhead.gateway.db import PROJECTIONS, Base, IndexerState, UndoRecord

UNDO_FROM = "undo_from"
TABLES: dict[str, type[Base]] = {m.__tablename__: m for m in PROJECTIONS}
RowKey = tuple[type[Base], tuple[Any, ...]]


def image(row: Base) -> dict[str, Any]:
    """The row's column values (a column never set yet has its default, as the flush would write it); JSON
    values copied, so that a later change to the row does not reach the image."""
    values: dict[str, Any] = {}
    for key, default in _columns(type(row)):
        value = getattr(row, key)
        if value is None:
            value = default
        values[key] = copy.deepcopy(value) if isinstance(value, dict | list) else value
    return values


@cache
def _columns(model: type[Base]) -> tuple[tuple[str, Any], ...]:
    """Each column attribute's key and the scalar default the flush writes for it (None: none)."""
    out: list[tuple[str, Any]] = []
    for attr in sa_inspect(model).column_attrs:
        default = attr.columns[0].default
        out.append((attr.key, default.arg if default is not None and default.is_scalar else None))
    return tuple(out)


@dataclass
class Journal:
    from_block: int | None  # the first block journaled in this batch; None: none is
    block: int = -1  # the block of the event being applied
    _images: list[tuple[int, RowKey, dict[str, Any] | None]] = field(default_factory=list)
    _seen: dict[RowKey, int] = field(default_factory=dict)  # each row's newest image's block

    def touch(self, key: RowKey, row: Base | None) -> None:
        """Called before an event may change the row (`row` None: it does not exist yet)."""
        if self.from_block is None or self.block < self.from_block or self._seen.get(key) == self.block:
            return
        self._seen[key] = self.block
        self._images.append((self.block, key, None if row is None else image(row)))

    def records(self, final: dict[RowKey, Base | None]) -> list[dict[str, Any]]:
        """The undo records worth keeping: images that differ from the row's state after their block."""
        by_row: dict[RowKey, list[tuple[int, dict[str, Any] | None]]] = {}
        for block, key, before in self._images:
            by_row.setdefault(key, []).append((block, before))
        out: list[dict[str, Any]] = []
        for (model, pk), images in by_row.items():
            row = final.get((model, pk))
            after = [before for _, before in images[1:]] + [None if row is None else image(row)]
            for (block, before), state_after in zip(images, after, strict=True):
                if before != state_after:
                    out.append({"block_number": block, "table": model.__tablename__, "key": list(pk), "before": before})
        return out


def write(s: Session, records: list[dict[str, Any]]) -> None:
    if records:
        s.execute(insert(UndoRecord), records)


def mark(s: Session, start: int, end: int, journal_from: int | None, keep_from: int) -> None:
    """Records how far back the journal reaches after a batch of blocks start..end, journaled from
    `journal_from` (None: not at all), and drops the journal before `keep_from` (the depth kept)."""
    state = s.get(IndexerState, UNDO_FROM)
    if journal_from is None or journal_from > start or state is None:
        reach = end + 1 if journal_from is None else journal_from
    else:
        reach = state.value
    reach = max(reach, keep_from)
    s.execute(delete(UndoRecord).where(UndoRecord.block_number < keep_from))
    s.merge(IndexerState(key=UNDO_FROM, value=reach))


def reaches(s: Session, ancestor: int) -> bool:
    """Whether the journal can undo every block after `ancestor`."""
    state = s.get(IndexerState, UNDO_FROM)
    return state is not None and state.value <= ancestor + 1


def undo(s: Session, ancestor: int) -> int:
    """Restores every projection row the blocks after `ancestor` changed; returns how many."""
    records = s.scalars(
        select(UndoRecord).where(UndoRecord.block_number > ancestor).order_by(UndoRecord.block_number, UndoRecord.id)
    )
    earliest: dict[tuple[str, tuple[Any, ...]], dict[str, Any] | None] = {}
    for r in records:
        earliest.setdefault((r.table, tuple(r.key)), r.before)
    for (table, pk), before in earliest.items():
        model = TABLES[table]
        columns = list(sa_inspect(model).primary_key)
        if before is None:
            s.execute(delete(model).where(tuple_(*columns).in_([pk])))
        else:
            s.merge(model(**before))
    s.execute(delete(UndoRecord).where(UndoRecord.block_number > ancestor))
    return len(earliest)


def forget(s: Session, ancestor: int) -> None:
    """After a full replay: no journal, reaching from the block after `ancestor` on."""
    s.execute(delete(UndoRecord))
    s.merge(IndexerState(key=UNDO_FROM, value=ancestor + 1))
