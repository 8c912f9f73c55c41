"""Exact LOBSTER replay: the L3 book rebuilt from messages equals every orderbook row.

Beyond the real GOOG day, the files here come from a small simulated market written the way
LOBSTER writes them (only messages inside the top-L window; orderbook rows = the true top L
after each message), so every row is right by construction and any mismatch is the replay's.
"""

from __future__ import annotations

import gzip
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from execsim.book.replay import compare_top_levels, verify_lobster
from execsim.core.errors import BookError
from execsim.model.enums import Side

ASK_PAD = 9_999_999_999
BID_PAD = -9_999_999_999


@dataclass
class Written:
    messages: Path
    orderbook: Path
    rows: int
    types: Counter[int]
    # rows (1-based) of messages of each type whose price is visible in their own row
    visible_rows: dict[int, list[int]]


class SimulatedMarket:
    """A plain price-time book (dict of FIFO queues per price) that writes LOBSTER files.

    Prices are LOBSTER units (dollars × 10000) on a one-cent grid; the book starts with orders
    that the files never mention (they rested before the period), and changes outside the top-L
    window are not written, as LOBSTER does.
    """

    TICK = 100  # $0.01 in LOBSTER units

    def __init__(self, seed: int, levels: int, depth: int) -> None:
        self.rng = random.Random(seed)
        self.L = levels
        self.depth = depth
        self.book: dict[int, dict[int, list[list[int]]]] = {1: {}, -1: {}}
        self.next_id = 1000
        self.t_ns = 34_200 * 10**9
        mid = 1_000_000  # $100
        for _ in range(3 * depth):
            side = self.rng.choice((1, -1))
            off = self.rng.randint(1, 2 * depth) * self.TICK
            self._add(side, mid - off if side == 1 else mid + off, self.rng.randint(1, 300))

    # -- book ----------------------------------------------------------------------------
    def _add(self, side: int, price: int, qty: int) -> int:
        oid = self.next_id
        self.next_id += 1
        self.book[side].setdefault(price, []).append([oid, qty])
        return oid

    def _reduce(self, side: int, price: int, idx: int, qty: int) -> None:
        q = self.book[side][price]
        q[idx][1] -= qty
        if q[idx][1] <= 0:
            q.pop(idx)
        if not q:
            del self.book[side][price]

    def _prices(self, side: int) -> list[int]:
        return sorted(self.book[side], reverse=side == 1)

    def window(self, side: int) -> list[int]:
        return self._prices(side)[: self.L]

    def row(self) -> str:
        asks = [(p, sum(o[1] for o in self.book[-1][p])) for p in self.window(-1)]
        bids = [(p, sum(o[1] for o in self.book[1][p])) for p in self.window(1)]
        asks += [(ASK_PAD, 0)] * (self.L - len(asks))
        bids += [(BID_PAD, 0)] * (self.L - len(bids))
        return ",".join(f"{a},{aq},{b},{bq}" for (a, aq), (b, bq) in zip(asks, bids, strict=True))

    def best(self, side: int) -> int | None:
        p = self._prices(side)
        return p[0] if p else None

    # -- one step --------------------------------------------------------------------------
    def step(self) -> tuple[int, int, int, int, int, bool] | None:
        """Do one random thing; return (type, oid, size, price, direction, touches window)."""
        rng = self.rng
        r = rng.random()
        side = rng.choice((1, -1))
        bb, ba = self.best(1), self.best(-1)
        crowded = sum(len(q) for q in self.book[side].values()) > 3 * self.depth
        if not crowded and (bb is None or ba is None or len(self.book[side]) < 3 or r < 0.45):
            # add: mostly near the touch, sometimes far outside the window
            far = rng.random() < 0.2
            off = rng.randint(0, 3 * self.L + 6 if far else self.L + 2) * self.TICK
            if side == 1:
                ref = bb if bb is not None else (ba - self.TICK if ba is not None else 1_000_000)
                price = ref - off + (self.TICK if rng.random() < 0.3 else 0)
                if ba is not None and price >= ba:
                    price = ba - self.TICK
            else:
                ref = ba if ba is not None else (bb + self.TICK if bb is not None else 1_000_100)
                price = ref + off - (self.TICK if rng.random() < 0.3 else 0)
                if bb is not None and price <= bb:
                    price = bb + self.TICK
            qty = rng.randint(1, 400)
            before = price in self.window(side)
            oid = self._add(side, price, qty)
            return 1, oid, qty, price, side, before or price in self.window(side)
        if r < 0.85 or crowded:
            # cancel (partial) or delete any resting order, anywhere in the book
            price = rng.choice(list(self.book[side]))
            q = self.book[side][price]
            idx = rng.randrange(len(q))
            oid, left = q[idx]
            before = price in self.window(side)
            if r < 0.5 and left > 1:
                qty, typ = rng.randint(1, left - 1), 2
            else:
                qty, typ = left, 3
            self._reduce(side, price, idx, qty)
            return typ, oid, qty, price, side, before or price in self.window(side)
        if r < 0.95:
            # a marketable order executes the front of the best level
            price = self._prices(side)[0]
            oid, left = self.book[side][price][0]
            qty = rng.randint(1, left)
            self._reduce(side, price, 0, qty)
            return 4, oid, qty, price, side, True
        if r < 0.985:
            # hidden execution between the quotes, sometimes at a half cent
            price = rng.randint(bb // 50, ba // 50) * 50
            return 5, 0, rng.randint(1, 200), price, side, True
        if r < 0.99:
            return 6, 0, rng.randint(100, 1000), (bb + ba) // 2 // self.TICK * self.TICK, 1, True
        return 7, 0, 0, rng.choice((-1, 0, 1)), -1, True

    def write(
        self, folder: Path, n_rows: int, *, gz: bool, symbol: str = "TEST", day: str = "2015-03-02"
    ) -> Written:
        name = f"{symbol}_{day}_34200000_57600000_{{}}_{self.L}.csv" + (".gz" if gz else "")
        msg_path = folder / name.format("message")
        book_path = folder / name.format("orderbook")
        msgs: list[str] = []
        rows: list[str] = []
        types: Counter[int] = Counter()
        visible: dict[int, list[int]] = {}
        while len(msgs) < n_rows:
            step = self.step()
            if step is None:
                continue
            typ, oid, size, price, side, touches = step
            if not touches:
                continue  # outside the window: LOBSTER does not write it
            self.t_ns += self.rng.choice((0, 0, 1, 37, 1_000, 250_000_000))
            secs, frac = divmod(self.t_ns, 10**9)
            stamp = f"{secs}.{frac:09d}".rstrip("0").rstrip(".")
            msgs.append(f"{stamp},{typ},{oid},{size},{price},{side}")
            rows.append(self.row())
            types[typ] += 1
            if typ <= 4 and price in self.window(side):
                visible.setdefault(typ, []).append(len(msgs))
        for path, lines in ((msg_path, msgs), (book_path, rows)):
            data = ("\n".join(lines) + "\n").encode()
            path.write_bytes(gzip.compress(data) if gz else data)
        return Written(msg_path, book_path, n_rows, types, visible)


def _rewrite_message(path: Path, row: int, change: dict[int, str]) -> None:
    """Change fields of one message row (1-based) in place, keeping the compression."""
    raw = path.read_bytes()
    gz = raw[:2] == b"\x1f\x8b"
    lines = (gzip.decompress(raw) if gz else raw).decode().splitlines()
    fields = lines[row - 1].split(",")
    for col, value in change.items():
        fields[col] = value
    lines[row - 1] = ",".join(fields)
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)


# -- the real day ------------------------------------------------------------------------------


def test_goog_day_replays_exactly_at_every_row_and_level(lobster_goog: tuple[Path, Path]) -> None:
    msg, book = lobster_goog
    seen: list[int] = []
    result = verify_lobster(msg, book, progress=seen.append)
    assert result.rows == 147_916
    assert result.mismatches == 0, [m.describe() for m in result.first_mismatches]
    assert result.first_mismatches == ()
    assert sum(seen) == 147_916
    assert result.summary_line() == "rows=147916 mismatches=0"
    # every message reached the book, none was rejected
    stats = result.book_stats
    assert stats["adds"] == 71_258
    assert stats["deletes"] == 64_961
    assert stats["executes"] == 7_765
    assert stats["trades"] == 3_913
    assert stats["rejected_events"] == 0
    assert result.report.rows_read == 147_916


def test_goog_slice_replays_and_a_corrupted_size_is_caught(
    lobster_goog: tuple[Path, Path], tmp_path: Path
) -> None:
    # the first 3,000 rows as plain files (a LOBSTER name with a different period)
    msg, book = lobster_goog
    n = 3_000
    out = []
    for src, kind in ((msg, "message"), (book, "orderbook")):
        with gzip.open(src, "rt") as f:
            lines = [next(f) for _ in range(n)]
        path = tmp_path / f"GOOG_2012-06-21_34200000_35000000_{kind}_10.csv"
        path.write_text("".join(lines))
        out.append(path)
    m_path, b_path = out
    assert verify_lobster(m_path, b_path).mismatches == 0
    # find an ADD (independently of the feed) whose price shows in its own row, and add one share
    msg_rows = [line.split(",") for line in m_path.read_text().splitlines()]
    book_rows = [line.split(",") for line in b_path.read_text().splitlines()]
    k = next(
        i
        for i in range(1_000, n)
        if msg_rows[i][1] == "1" and msg_rows[i][4] in book_rows[i][(0 if msg_rows[i][5] == "-1" else 2) :: 4]
    )
    _rewrite_message(m_path, k + 1, {3: str(int(msg_rows[k][3]) + 1)})
    result = verify_lobster(m_path, b_path)
    assert result.mismatches > 0
    assert result.first_mismatches[0].row == k + 1
    assert result.first_mismatches[0].got_qty == result.first_mismatches[0].expected_qty + 1


# -- simulated markets: any ticker, date, depth and compression ---------------------------------


@pytest.mark.parametrize(
    ("levels", "depth", "gz", "seed"),
    [(1, 6, False, 1), (5, 10, True, 2), (10, 20, False, 3), (50, 12, True, 4)],
)
def test_simulated_lobster_files_replay_exactly(
    tmp_path: Path, levels: int, depth: int, gz: bool, seed: int
) -> None:
    w = SimulatedMarket(seed, levels, depth).write(tmp_path, 4_000, gz=gz, symbol=f"SYM{levels}")
    result = verify_lobster(w.messages, w.orderbook)
    assert result.mismatches == 0, [m.describe() for m in result.first_mismatches]
    assert result.rows == w.rows
    assert result.levels == levels
    assert result.instrument.symbol == f"SYM{levels}"
    assert dict(result.report.message_types) == dict(w.types)
    # the scenario exercises what it should: unseen orders, reveals, and (deep) empty levels
    assert result.book_stats["unknown_order_events"] > 0
    assert result.book_stats["rejected_events"] == 0
    if levels < depth:
        assert result.report.reveals > 0
        assert result.report.reveal_clears > 0


def test_simulated_deep_window_pads_and_still_replays(tmp_path: Path) -> None:
    # 50 levels on a book that rarely has 50: the rows carry LOBSTER's empty-level filler
    w = SimulatedMarket(9, 50, 12).write(tmp_path, 2_000, gz=False)
    text = w.orderbook.read_text()
    assert str(ASK_PAD) in text
    assert str(BID_PAD) in text
    assert verify_lobster(w.messages, w.orderbook).mismatches == 0


def test_small_chunks_give_the_same_verdict(tmp_path: Path) -> None:
    w = SimulatedMarket(5, 3, 10).write(tmp_path, 1_500, gz=True)
    whole = verify_lobster(w.messages, w.orderbook)
    tiny = verify_lobster(w.messages, w.orderbook, rows_per_chunk=7)
    assert whole.mismatches == tiny.mismatches == 0
    assert whole.report.total_emitted == tiny.report.total_emitted
    assert whole.book_stats == tiny.book_stats


def test_a_changed_add_size_is_caught_at_its_row(tmp_path: Path) -> None:
    w = SimulatedMarket(11, 5, 10).write(tmp_path, 2_000, gz=False)
    k = w.visible_rows[1][len(w.visible_rows[1]) // 2]
    line = w.messages.read_text().splitlines()[k - 1].split(",")
    _rewrite_message(w.messages, k, {3: str(int(line[3]) + 5)})
    result = verify_lobster(w.messages, w.orderbook)
    assert result.mismatches > 0
    first = result.first_mismatches[0]
    assert first.row == k
    assert first.got_qty - first.expected_qty == 5
    assert first.side is (Side.BUY if line[5] == "1" else Side.SELL)


def test_a_dropped_delete_is_caught_at_its_row(tmp_path: Path) -> None:
    # turning a delete into a hidden execution keeps the row count but drops its book effect
    w = SimulatedMarket(12, 5, 10).write(tmp_path, 2_000, gz=True)
    k = w.visible_rows[3][len(w.visible_rows[3]) // 3]
    _rewrite_message(w.messages, k, {1: "5", 2: "0"})
    result = verify_lobster(w.messages, w.orderbook, max_details=3)
    assert result.mismatches > 0
    assert result.first_mismatches[0].row == k
    assert len(result.first_mismatches) <= 3


def test_an_orderbook_row_that_disagrees_with_its_message_is_caught(tmp_path: Path) -> None:
    # the other direction: the depth file is wrong at a level the messages decide
    w = SimulatedMarket(13, 5, 10).write(tmp_path, 1_000, gz=False)
    k = w.visible_rows[1][10]
    rows = w.orderbook.read_text().splitlines()
    fields = rows[k - 1].split(",")
    msg = w.messages.read_text().splitlines()[k - 1].split(",")
    col = fields.index(msg[4], 0 if msg[5] == "-1" else 2)
    fields[col + 1] = str(int(fields[col + 1]) + 1)
    rows[k - 1] = ",".join(fields)
    w.orderbook.write_text("\n".join(rows) + "\n")
    result = verify_lobster(w.messages, w.orderbook)
    assert result.first_mismatches[0].row == k
    assert result.mismatches >= 1


def test_compare_top_levels_reports_each_differing_level() -> None:
    z = np.zeros((2, 3), dtype=np.int64)
    exp = (z + np.array([10, 9, 8]), z + 5, z + np.array([11, 12, 13]), z + 7)
    got = tuple(a.copy() for a in exp)
    got[1][1, 2] = 4  # row 2, bid level 3 size
    got[2][1, 0] = 0  # row 2, ask level 1 price
    bad, details = compare_top_levels(got, exp, first_row=100)
    assert bad.tolist() == [False, True]
    assert [(d.row, d.side, d.level) for d in details] == [
        (101, Side.BUY, 3),
        (101, Side.SELL, 1),
    ]
    assert (details[0].expected_qty, details[0].got_qty) == (5, 4)
    with pytest.raises(BookError, match="different shapes"):
        compare_top_levels(got, (z, z, z, np.zeros((2, 2), dtype=np.int64)))
