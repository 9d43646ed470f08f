"""Small numbers never identify a person: cell suppression of a table of counts.

Primary suppression: every count under THRESHOLD (0 to 4) is withheld and shown as "<5".
Complementary (secondary) suppression: a withheld count must not be recomputable from what is
published. Each published total is a line (the cells it sums and the total itself); a line is
safe when nothing in it is withheld, or when at least two of its members are withheld and the
withheld cells do not sum to zero while the total is published (withheld cells of a known sum 0
are each 0). An unsafe line withholds its smallest published cell next, or its total when no
cell is left; this repeats until every line is safe, so a withholding in one line is protected in
the crossing line too. Tables whose rows share one total (the same group of clients counted two
ways) withhold that total in every row once it is withheld in one.

This guards against recomputation within the published lines of one table, the rule statistical
offices apply to frequency tables; each table is published on its own, and tables that share a
total say so (`same_row_totals`)."""

from __future__ import annotations

from dataclasses import dataclass, field

THRESHOLD = 5


@dataclass
class Grid:
    """Counts (rows x columns) with optional row totals, column totals and their grand total."""

    values: list[list[int]]
    row_totals: bool = False
    column_totals: bool = False
    same_row_totals: bool = False
    width: int = 0  # the number of columns, for a table without rows
    # Filled by `protect`: which counts are withheld.
    cells: list[list[bool]] = field(default_factory=list)
    rows: list[bool] = field(default_factory=list)  # the row totals
    columns: list[bool] = field(default_factory=list)  # the column totals
    grand: bool = False

    def row_total(self, r: int) -> int:
        return sum(self.values[r])

    def column_total(self, c: int) -> int:
        return sum(row[c] for row in self.values)

    @property
    def grand_total(self) -> int:
        return sum(sum(row) for row in self.values)


@dataclass
class _Member:
    """One published count of a line: where its flag lives and its value."""

    kind: str  # "cell", "row", "column" or "grand"
    index: tuple[int, ...]
    value: int


def _flag(grid: Grid, member: _Member) -> bool:
    if member.kind == "cell":
        return grid.cells[member.index[0]][member.index[1]]
    if member.kind == "row":
        return grid.rows[member.index[0]]
    if member.kind == "column":
        return grid.columns[member.index[0]]
    return grid.grand


def _withhold(grid: Grid, member: _Member) -> None:
    if member.kind == "cell":
        grid.cells[member.index[0]][member.index[1]] = True
    elif member.kind == "row":
        grid.rows[member.index[0]] = True
    elif member.kind == "column":
        grid.columns[member.index[0]] = True
    else:
        grid.grand = True


def _lines(grid: Grid) -> list[tuple[list[_Member], _Member]]:
    """(the members a published total sums, that total), for every published total."""
    n_rows = len(grid.values)
    n_cols = len(grid.values[0]) if n_rows else grid.width
    lines: list[tuple[list[_Member], _Member]] = []
    if grid.row_totals:
        for r in range(n_rows):
            lines.append(([_Member("cell", (r, c), grid.values[r][c]) for c in range(n_cols)],
                          _Member("row", (r,), grid.row_total(r))))
    if grid.column_totals:
        for c in range(n_cols):
            lines.append(([_Member("cell", (r, c), grid.values[r][c]) for r in range(n_rows)],
                          _Member("column", (c,), grid.column_total(c))))
    if grid.row_totals and grid.column_totals and not grid.same_row_totals:
        grand = _Member("grand", (), grid.grand_total)
        lines.append(([_Member("row", (r,), grid.row_total(r)) for r in range(n_rows)], grand))
        lines.append(([_Member("column", (c,), grid.column_total(c)) for c in range(n_cols)], grand))
    return lines


def _safe(grid: Grid, members: list[_Member], total: _Member) -> bool:
    if not members:  # a total of nothing (a table without rows) gives nothing away
        return True
    withheld = [m for m in members if _flag(grid, m)]
    total_withheld = _flag(grid, total)
    count = len(withheld) + (1 if total_withheld else 0)
    if count == 0:
        return True
    if count == 1:
        return False
    return total_withheld or sum(m.value for m in withheld) > 0


def protect(grid: Grid) -> Grid:
    """Fill the grid's flags: primary suppression under THRESHOLD, then complementary
    suppression until every published line is safe."""
    n_rows = len(grid.values)
    n_cols = len(grid.values[0]) if n_rows else grid.width
    grid.cells = [[v < THRESHOLD for v in row] for row in grid.values]
    grid.rows = [grid.row_totals and grid.row_total(r) < THRESHOLD for r in range(n_rows)]
    grid.columns = [grid.column_totals and grid.column_total(c) < THRESHOLD for c in range(n_cols)]
    grid.grand = grid.row_totals and grid.column_totals and grid.grand_total < THRESHOLD
    lines = _lines(grid)
    changed = True
    while changed:
        changed = False
        if grid.same_row_totals and any(grid.rows) and not all(grid.rows):
            grid.rows = [True] * n_rows
            changed = True
        for members, total in lines:
            if _safe(grid, members, total):
                continue
            published = [m for m in members if not _flag(grid, m)]
            # The smallest published cell goes next (first in order on a tie); the total when
            # no cell is left.
            target = min(published, key=lambda m: m.value) if published else total
            if not _flag(grid, target):
                _withhold(grid, target)
                changed = True
    return grid
