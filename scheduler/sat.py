"""The question "a schedule with at most k breaks?" as plain SAT, for CaDiCaL (python-sat).

When every meeting must be placed and CP-SAT's improver stalls above the proven lower bound, the
question with k = that bound is often settled far sooner by a SAT solver's clause learning on a
direct encoding (forum-13crafc.forb0007: a schedule with 1 break in 6 s, where CP-SAT stayed at
3-4 breaks for a minute). "Yes" is an optimal schedule; "no" raises the bound by one.

The encoding: a literal per meeting and allowed slot (exactly one each), a "busy" literal per
participant and slot (at most one meeting there), the capacity per slot, precedences, and for
each participant and slot a "gap" literal that holds exactly when an idle run starts there with a
meeting before and after; at most k gap literals are true, and the break-spread rule compares
each participant's count of them in unary. Implied, and what makes it fast: each participant is
busy in exactly as many slots as they have meetings; and no more than twice `capacity` people are
busy in one slot. The second settles where the tables run short (tic-13crafc.fixed020-Forb:
"5 breaks?" no in 3-20 s and "6?" yes in 2 s, neither answered in 100 s without it;
tic-13crafc.prec15 "3?" no in 12-30 s; ticf-14crafa.prec15 "0?" yes in 33-50 s against 85-89 s).
Its encoding matters: as a sequential counter (or a totalizer, or a cardinality network) it
proved fastest but slowed the search for schedules that exist (forum-13crafc.forb0007 "1 break?"
yes in 9.5 s without it, no answer in 100 s with it); the modulo totalizer keeps both: 9.5 s
there, and the proofs take up to twice as long as with the counter.

The solver runs in a child process (``python -m scheduler.sat K`` with the problem on stdin),
which the caller can stop at its deadline; CaDiCaL cannot be interrupted from a thread.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Any

from pysat.card import CardEnc, EncType
from pysat.formula import IDPool
from pysat.solvers import Solver

from scheduler.io import problem_from_dict, problem_to_dict
from scheduler.model import meeting_domains, meetings_of
from scheduler.problem import Problem, breaks_by_participant, check_solution
from scheduler.shared import Shared

# The question waits this long for CP-SAT, which settles most cases sooner on its own, and
# then takes a core of its own (on two cores, a third of each): the stalled cases gain far more.
ASK_AFTER = 3.0
NICE = 5


@dataclass
class Encoding:
    clauses: list[list[int]]
    slot_of: dict[int, tuple[int, int]]  # literal -> (meeting index, slot)


def _at_most(lits: list[int], k: int, pool: IDPool) -> list[list[int]]:
    if len(lits) <= k:
        return []
    if k == 0:
        return [[-v] for v in lits]
    kind = EncType.pairwise if k == 1 and len(lits) <= 6 else EncType.seqcounter
    return CardEnc.atmost(lits, k, vpool=pool, encoding=kind).clauses


def encode(problem: Problem, k: int) -> Encoding:
    """Clauses satisfiable exactly by the schedules that place every meeting, keep every hard
    rule and hold at most `k` breaks in all."""
    pool = IDPool()
    out: list[list[int]] = []
    slots = problem.slots
    domains = meeting_domains(problem, True)
    x: dict[tuple[int, int], int] = {}
    for i, dom in enumerate(domains):
        lits = [pool.id(("x", i, s)) for s in dom]
        x.update({(i, s): v for s, v in zip(dom, lits, strict=True)})
        out.append(lits)  # empty when the meeting has no slot: unsatisfiable, as it should be
        out += _at_most(lits, 1, pool)
    index = {m.id: i for i, m in enumerate(problem.meetings)}
    for i, m in enumerate(problem.meetings):
        for other in m.after:
            j = index[other]
            for s in domains[i]:
                out.append([-x[i, s], *(x[j, t] for t in domains[j] if t < s)])
    if problem.capacity is not None:
        for s in range(slots):
            out += _at_most([v for (_, t), v in x.items() if t == s], problem.capacity, pool)
    gaps: dict[str, list[int]] = {}
    column: dict[int, list[int]] = {s: [] for s in range(slots)}  # who may be busy in each slot
    for p, mine in meetings_of(problem).items():
        busy: list[int | None] = []
        for s in range(slots):
            here = [x[i, s] for i in mine if (i, s) in x]
            if not here:
                busy.append(None)
                continue
            b = pool.id(("busy", p, s))
            out.append([-b, *here])
            out += [[-h, b] for h in here]
            out += _at_most(here, 1, pool)
            busy.append(b)
            column[s].append(b)
        present = [b for b in busy if b is not None]
        if mine and len(present) > len(mine):  # implied: busy in exactly as many slots as meetings
            out += CardEnc.equals(present, len(mine), vpool=pool, encoding=EncType.totalizer).clauses
        gaps[p] = _gaps(p, busy, pool, out)
    if problem.capacity is not None:  # implied: at most twice `capacity` people busy in a slot
        for s in range(slots):
            if len(column[s]) > 2 * problem.capacity:
                out += CardEnc.atmost(
                    column[s], 2 * problem.capacity, vpool=pool, encoding=EncType.kmtotalizer
                ).clauses
    out += _at_most([g for mine in gaps.values() for g in mine], k, pool)
    if problem.rules.break_spread is not None:
        _spread(gaps, problem.rules.break_spread, pool, out)
    return Encoding(out, {v: key for key, v in x.items()})


def _gaps(p: str, busy: list[int | None], pool: IDPool, out: list[list[int]]) -> list[int]:
    """Literals g_s <-> busy before s, idle at s, busy after s: one per break."""
    slots = len(busy)
    later: list[int | None] = [None] * slots  # later[s] <-> busy in some slot after s
    for s in range(slots - 2, -1, -1):
        parts = [v for v in (busy[s + 1], later[s + 1]) if v is not None]
        if parts:
            v = later[s] = pool.id(("later", p, s))
            out.append([-v, *parts])
            out += [[-q, v] for q in parts]
    gaps: list[int] = []
    for s in range(1, slots):
        before, here, after = busy[s - 1], busy[s], later[s]
        if before is None or after is None:
            continue
        g = pool.id(("gap", p, s))
        out.append([-before, -after, g] + ([here] if here is not None else []))
        out += [[-g, before], [-g, after]] + ([[-g, -here]] if here is not None else [])
        gaps.append(g)
    return gaps


def _spread(gaps: dict[str, list[int]], spread: int, pool: IDPool, out: list[list[int]]) -> None:
    """Nobody's breaks exceed anybody's by more than `spread`: each count in unary (at_least[j]
    <-> at least j breaks), and "someone has j + spread + 1" implies "everyone has j + 1"."""
    true = pool.id("true")
    out.append([true])
    at_least: dict[str, list[int]] = {}
    for p, mine in gaps.items():
        prev = [true]  # at least j among the gaps counted so far
        for i, g in enumerate(mine, start=1):
            cur = [true]
            for j in range(1, i + 1):
                a = prev[j] if j < len(prev) else -true  # at least j without g
                b = prev[j - 1]  # at least j - 1 without g
                v = pool.id(("count", p, i, j))  # v <-> a or (b and g)
                out += [[-a, v], [-b, -g, v], [-v, a, b], [-v, a, g]]
                cur.append(v)
            prev = cur
        at_least[p] = prev
    most = max(len(counts) - 1 for counts in at_least.values()) if at_least else 0
    for j in range(most + 1):
        top = j + spread + 1
        over = [counts[top] for counts in at_least.values() if top < len(counts)]
        if not over:
            continue
        someone = pool.id(("over", j))
        out += [[-q, someone] for q in over]
        out += [[-someone, counts[j + 1] if j + 1 < len(counts) else -true] for counts in at_least.values()]


def solve_k(problem: Problem, k: int) -> dict[str, int] | None:
    """A schedule with at most `k` breaks (meeting id -> slot), or None when there is none."""
    encoding = encode(problem, k)
    with Solver(name="cadical195", bootstrap_with=encoding.clauses) as solver:
        if not solver.solve():
            return None
        model = solver.get_model() or []
    chosen = [encoding.slot_of[v] for v in model if v > 0 and v in encoding.slot_of]
    return {problem.meetings[i].id: s for i, s in chosen}


class Question:
    """`solve_k` in a child process: ``answer`` is None while it runs, then ("yes", schedule) or
    ("no", None); ``stop`` ends it at any time."""

    def __init__(self, problem: Problem, k: int, seconds: float) -> None:
        self.answer: tuple[str, dict[str, int] | None] | None = None
        self.finished = threading.Event()
        self._data = json.dumps(problem_to_dict(problem)).encode()
        self._child = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no outside input
            [sys.executable, "-m", "scheduler.sat", str(k), str(max(1, math.ceil(seconds)))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        threading.Thread(target=self._talk, name=f"sat-{k}", daemon=True).start()

    def _talk(self) -> None:
        try:
            out, _ = self._child.communicate(self._data)
            if self._child.returncode == 0:
                reply = json.loads(out)
                self.answer = ("yes", reply["schedule"]) if reply["sat"] else ("no", None)
        except (OSError, ValueError, KeyError):  # stopped, or no answer: the search goes on without
            pass
        finally:
            self.finished.set()

    def stop(self) -> None:
        if self._child.poll() is None:
            self._child.kill()
        self.finished.wait(5)


def search(problem: Problem, shared: Shared, deadline: float) -> None:
    """Beside the CP-SAT search: ask for a schedule at the proven lower bound, and again at
    each higher bound, until the answer is proven or time runs out."""
    if shared.done.wait(ASK_AFTER):
        return
    weight = sum(m.weight for m in problem.meetings)
    while not shared.done.is_set() and shared.left(deadline) > 0.5:
        with shared.lock:
            k = shared.lower
            if shared.best is not None and shared.best_breaks <= k:
                return
        try:
            question = Question(problem, k, shared.left(deadline))
        except OSError:  # no process to be had: CP-SAT goes on alone
            return
        raised = False
        try:
            while not question.finished.wait(0.05):
                with shared.lock:
                    raised = shared.lower > k
                if raised or shared.done.is_set() or shared.left(deadline) <= 0:
                    break
        finally:
            question.stop()
        if question.answer is None:
            if raised:
                continue  # stopped for a higher bound: ask about that one
            return  # the end, or the child failed: CP-SAT goes on alone
        verdict, schedule = question.answer
        if verdict == "no":
            shared.raise_lower(k + 1)
        elif schedule is not None and not check_solution(problem, schedule):
            shared.offer(schedule, sum(breaks_by_participant(problem, schedule).values()), weight)
        else:  # a schedule that breaks a rule would be a bug here: leave it to CP-SAT
            return


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not all(arg.isdigit() for arg in argv):
        print("usage: python -m scheduler.sat K SECONDS < PROBLEM.json", file=sys.stderr)
        return 2
    # Gone after SECONDS even if whoever asked is gone too and cannot stop it.
    signal.alarm(int(argv[1]))
    os.nice(NICE)
    problem = problem_from_dict(json.load(sys.stdin))
    schedule = solve_k(problem, int(argv[0]))
    reply: dict[str, Any] = {"sat": schedule is not None, "schedule": schedule}
    json.dump(reply, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
