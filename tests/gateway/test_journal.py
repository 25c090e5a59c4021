"""The undo journal's reach: which rollbacks it can undo after batches journaled in full, in part or not at all,
and what pruning to the journal depth leaves (each bound pinned at its edge)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from wellhead.gateway.db import UndoRecord, engine_for, migrate, session_factory
from wellhead.gateway.index.journal import mark, reaches, write


def _session(tmp: Path) -> Session:
    url = f"sqlite:///{tmp / 'journal.db'}"
    migrate(url)
    session: Session = session_factory(engine_for(url))()
    return session


def test_the_journal_reaches_back_to_its_first_journaled_block_and_no_further(tmp_path: Path) -> None:
    with _session(tmp_path) as s:
        assert not reaches(s, 10**9), "no journal yet: nothing is undone from it"
        mark(s, 1, 9, None, 0)  # not journaled (far below the head)
        assert reaches(s, 9) and not reaches(s, 8), "only a rollback of nothing after block 9"
        mark(s, 10, 20, 15, 0)  # journaled from block 15 on
        assert reaches(s, 14) and not reaches(s, 13)
        mark(s, 21, 30, 21, 0)  # journaled whole: the reach stands
        assert reaches(s, 14) and not reaches(s, 13)


def test_pruning_to_the_depth_moves_the_reach_and_drops_older_records(tmp_path: Path) -> None:
    with _session(tmp_path) as s:
        mark(s, 1, 10, 1, 0)
        write(s, [{"block_number": b, "table": "assets", "key": [1], "before": None} for b in (23, 24, 25, 26)])
        mark(s, 11, 40, 11, 25)  # the newest blocks from 25 on are kept
        assert reaches(s, 24) and not reaches(s, 23)
        assert sorted(s.scalars(select(UndoRecord.block_number))) == [25, 26]
