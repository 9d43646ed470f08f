"""The benchmarks' registry and the figures they report.

A benchmark module registers itself:

    @register("events", "partner events pushed at POST /api/v1/events")
    async def collect(quick: bool) -> list[Figure]:
        ...

`python -m bench` imports every module of this package, runs what registered (or the names it
is given) and prints one table: each figure, its bare baseline measured in the same run (the
same work done with bare asyncpg, or the same endpoint without the feature under test), the
ratio between them, and the goal. Each module also runs alone (`python -m bench.events`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class Figure:
    what: str
    value: float
    unit: str  # "events/s", "ms", "req/s", ...
    baseline: float | None = None  # the bare baseline, same unit, same run
    baseline_what: str = ""
    higher_is_better: bool = True
    goal: str = ""
    met: bool | None = None  # None: no goal, or not decidable
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        """The share of the bare baseline that the service reaches (1.0: no overhead at all)."""
        if not self.baseline or not self.value:
            return None
        return self.value / self.baseline if self.higher_is_better else self.baseline / self.value


Collect = Callable[[bool], Awaitable[list[Figure]]]


@dataclass
class Benchmark:
    name: str
    summary: str
    collect: Collect


BENCHMARKS: dict[str, Benchmark] = {}


def register(name: str, summary: str) -> Callable[[Collect], Collect]:
    def add(collect: Collect) -> Collect:
        BENCHMARKS[name] = Benchmark(name, summary, collect)
        return collect

    return add
