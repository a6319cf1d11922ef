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
yes in 9.5 s without it, no answer in 100 s with it); as a modulo totalizer it keeps the 9.5 s
there, but the proofs take longer. So it is said both ways: the modulo totalizer from the start,
and the counter too (`Encoding.proof_rows`) once the questions are proofs, below a schedule found
or in hand (ticf-13crafb.forb0003 "4?" no at once after "5?" yes, 29 s later without the counter;
fixed020-Forb "5?" alone no in 1.7 s). The counter's clauses are numbered last and added only
then: the search for a schedule is sensitive to any change in the clauses or their numbering
(with the counter's rows numbered before the break counter, or in the solver from the start but
disabled by an assumption, ticf-13crafb.forb0007 "5?" took more than a minute, not about 30 s).

The questions for k + 1 and then k are asked of one solver, the limit on breaks as an assumption
on a counter's output, so that what it learnt on one serves the other: the higher first, whose
schedule, when there is one, is handed on at once (`solve_window`). The solver runs in a child
process (``python -m scheduler.sat K SECONDS UPTO`` with the problem on stdin; a JSON line per
bound refuted and for the schedule found first, then the answer), which the caller can stop at its
deadline; CaDiCaL cannot be interrupted from a thread. The child runs at a lower priority beside
CP-SAT's two searches; once CP-SAT has moved neither the bound nor the best schedule for a few
seconds, the improver stands aside and the question has a core to itself.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pysat.card import CardEnc, EncType
from pysat.formula import IDPool
from pysat.solvers import Solver

from scheduler.io import problem_from_dict, problem_to_dict
from scheduler.model import meeting_domains, meetings_of
from scheduler.problem import Problem, breaks_by_participant, check_solution
from scheduler.shared import Shared

# The question waits this long for CP-SAT, which settles most cases sooner on its own, and then
# runs beside it at a lower priority (on two cores, about a third of one)...
ASK_AFTER = 3.0
NICE = 5
# ...until neither the bound nor the best schedule has moved for this long: then the improver
# stands aside and the question has its core (ticf-14crafa.prec15: 0 breaks in 47-50 s, missed
# before; tic-13crafc.prec15: 29-31 s against 44 s).
HOLD_AFTER = 5.0
# The improver has this share of the time back at the end (unless a bound fell or a schedule came
# while the question had its core), so that where nothing is proven the schedule kept is as good
# as it can make it (tic-13crafc.prec25: 39 breaks kept without it, 14 with it, 10 when the
# improver never stood aside).
HOLD_LAST_SHARE = 0.15
# One solver asks at most this far above the bound (and not as far as the best schedule): the
# counter's size tells, forum-13crafb.forb0003 "4 breaks?" no in 29 s with room for one more
# question, 39-42 s with room for five.
UPWARD = 1


@dataclass
class Encoding:
    clauses: list[list[int]]
    slot_of: dict[int, tuple[int, int]]  # literal -> (meeting index, slot)
    at_least: list[int]  # at_least[j - 1] is implied by j breaks or more (j = 1 .. upto + 1)
    proof_rows: list[list[int]]  # the busy rows said a second way, added for proofs (encode)


def _at_most(lits: list[int], k: int, pool: IDPool) -> list[list[int]]:
    if len(lits) <= k:
        return []
    if k == 0:
        return [[-v] for v in lits]
    kind = EncType.pairwise if k == 1 and len(lits) <= 6 else EncType.seqcounter
    return CardEnc.atmost(lits, k, vpool=pool, encoding=kind).clauses


def encode(problem: Problem, upto: int) -> Encoding:
    """Clauses satisfiable exactly by the schedules that place every meeting and keep every hard
    rule; the limit on breaks is left to assumptions: with ``Encoding.at_least[k]`` false, the
    schedules with at most k breaks (k up to `upto`) remain."""
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
    # Implied: at most twice `capacity` people busy in a slot.
    twice = 2 * (problem.capacity or 0)
    rows = [] if problem.capacity is None else [col for col in column.values() if len(col) > twice]
    for row in rows:
        out += CardEnc.atmost(row, twice, vpool=pool, encoding=EncType.kmtotalizer).clauses
    every = [g for mine in gaps.values() for g in mine]
    at_least = _counter(every, min(len(every), upto + 1), pool, out)
    if problem.rules.break_spread is not None:
        _spread(gaps, problem.rules.break_spread, pool, out)
    # The same rows for proofs, numbered last, so that the rest is numbered as without them.
    proof_rows = [
        c for row in rows for c in CardEnc.atmost(row, twice, vpool=pool, encoding=EncType.seqcounter)
    ]
    return Encoding(out, {v: key for key, v in x.items()}, at_least, proof_rows)


def _counter(lits: list[int], upto: int, pool: IDPool, out: list[list[int]]) -> list[int]:
    """A sequential counter whose outputs are implied by the count: out[j - 1] is true whenever at
    least j of `lits` are (j = 1 .. upto). Assuming an output false caps the count below it."""
    prev: list[int] = []  # prev[j - 1]: at least j among the literals counted so far
    for i, x in enumerate(lits):
        cur = [pool.id(("sum", i, j)) for j in range(1, min(upto, i + 1) + 1)]
        for j, v in enumerate(cur, start=1):
            if j <= len(prev):
                out.append([-prev[j - 1], v])
            if j == 1:
                out.append([-x, v])
            else:
                out.append([-x, -prev[j - 2], v])
        prev = cur
    return prev


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
    return solve_window(problem, k, k, lambda _: None, lambda _: None)[1]


def solve_window(
    problem: Problem,
    k: int,
    upto: int,
    refuted: Callable[[int], None],
    found: Callable[[dict[str, int]], None],
) -> tuple[str, dict[str, int] | None]:
    """Ask "at most `upto` breaks?" and then "at most k?", "k + 1?", ... below it, in one solver,
    each "no" told to `refuted` (a "no" at `upto` refutes every bound below it too) and a schedule
    found at `upto` to `found`. Returns ("yes", the schedule with the fewest breaks found), ("no",
    None) when there is none up to `upto`, or ("none", None) when there is no schedule at all.

    The top first: a schedule there is a better one to hand on at once, and what the solver
    learnt finding it speeds the proofs below (ticf-13crafb.forb0007 "5?" yes in 30 s, then "4?"
    no 11 s later; "4?" first took 50 s, and "5?" after it more than a minute). The questions
    below it, and a question asked alone (k = `upto`: `search` asks so only when it holds a
    schedule one break above), are proofs: the solver is given `Encoding.proof_rows` for them."""
    encoding = encode(problem, upto)
    lone = k == upto  # asked alone, below a schedule the caller holds (`search`): a proof

    def limit(j: int) -> list[int]:
        return [-encoding.at_least[j]] if j < len(encoding.at_least) else []

    proof_rows = [encoding.proof_rows]  # given to the solver once, for the first proof

    def ask(j: int, proving: bool) -> dict[str, int] | None:
        if proving and proof_rows:
            solver.append_formula(proof_rows.pop())
        if not solver.solve(assumptions=limit(j)):
            return None
        chosen = [encoding.slot_of[v] for v in solver.get_model() or [] if v > 0 and v in encoding.slot_of]
        return {problem.meetings[i].id: s for i, s in chosen}

    if not limit(k):  # no schedule can have more than k breaks: one question
        upto = k
    with Solver(name="cadical195", bootstrap_with=encoding.clauses) as solver:
        if k == 0 < upto:
            # Except "no break at all?": that limit is units, which settle it sooner on its own
            # (ticf-14crafa.prec15: yes in 45-48 s; asked after "at most 1?", not in 60 s).
            zero = ask(0, proving=False)
            if zero is not None:
                return "yes", zero
            refuted(0)
            k = 1
        top = ask(upto, proving=lone)
        if top is None:
            if not limit(upto):
                return "none", None  # unsatisfiable without any limit on breaks
            refuted(upto)
            return "no", None
        if k < upto:
            found(top)
        for j in range(k, upto):
            below = ask(j, proving=True)
            if below is not None:
                return "yes", below
            refuted(j)
        return "yes", top


class Question:
    """`solve_window` in a child process: ``refuted`` is the highest k refuted so far (-1 before
    any), ``found`` the schedule found at `upto` (None before), ``answer`` None while it runs,
    then what `solve_window` returned; ``stop`` ends it at any time."""

    def __init__(self, problem: Problem, k: int, upto: int, seconds: float) -> None:
        self.answer: tuple[str, dict[str, int] | None] | None = None
        self.upto, self.refuted = upto, -1
        self.found: dict[str, int] | None = None
        self.finished = threading.Event()
        self._data = json.dumps(problem_to_dict(problem)).encode()
        self._child = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no outside input
            [sys.executable, "-m", "scheduler.sat", str(k), str(max(1, math.ceil(seconds))), str(upto)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        threading.Thread(target=self._talk, name=f"sat-{k}", daemon=True).start()

    def _talk(self) -> None:
        try:
            stdin, stdout = self._child.stdin, self._child.stdout
            if stdin is None or stdout is None:  # never with PIPE: for the type checker
                return
            stdin.write(self._data)
            stdin.close()
            for line in stdout:
                reply = json.loads(line)
                if "no" in reply:
                    self.refuted = int(reply["no"])
                elif "found" in reply:
                    self.found = reply["found"]
                else:
                    self.answer = (reply["verdict"], reply["schedule"])
            self._child.wait()
        except (OSError, ValueError, KeyError):  # stopped, or no answer: the search goes on without
            pass
        finally:
            self.finished.set()

    def stop(self) -> None:
        if self._child.poll() is None:
            self._child.kill()
        self.finished.wait(5)


def search(problem: Problem, shared: Shared, deadline: float) -> None:
    """Beside the CP-SAT search: ask for a schedule one break above the proven lower bound and
    then at the bound, in the same solver, then again from the bound reached, until the answer
    is proven or time runs out. Once neither the bound nor the best schedule has moved for
    HOLD_AFTER seconds, the improver stands aside (scheduler.improver) and the question has its
    core: not where meetings are fixed, and not in the last HOLD_LAST_SHARE of the time unless
    the question refuted a bound or found a schedule while it had the core."""
    if shared.done.wait(ASK_AFTER):
        return
    weight = sum(m.weight for m in problem.meetings)
    last = HOLD_LAST_SHARE * (deadline - shared.started)
    # With fixed meetings the improver's core-guided search is what proves the optimum
    # (scheduler.improver): it keeps its core (tic-13crafc.fixed040-Forb: 28 s instead of 15 s).
    may_hold = not any(m.fixed_slot is not None for m in problem.meetings)
    while not shared.done.is_set() and shared.left(deadline) > 0.5:
        with shared.lock:
            k = shared.lower
            if shared.best is not None and shared.best_breaks <= k:
                return
            upto = min(k + UPWARD, shared.best_breaks - 1) if shared.best is not None else k + UPWARD
            state = (shared.best_breaks, shared.lower)
        try:
            question = Question(problem, k, upto, shared.left(deadline))
        except OSError:  # no process to be had: CP-SAT goes on alone
            return
        held = False
        held_at: tuple[int, bool] = (-1, False)  # what the question had when it took the hold
        offered = False
        quiet_since = time.monotonic()
        try:
            while not question.finished.wait(0.05):
                if question.refuted >= 0:
                    shared.raise_lower(question.refuted + 1)
                if question.found is not None and not offered:
                    _offer(problem, shared, question.found, weight)
                    offered = True
                with shared.lock:
                    lower, now = shared.lower, (shared.best_breaks, shared.lower)
                if question.upto < lower or shared.done.is_set() or shared.left(deadline) <= 0:
                    break  # a higher bound was proven meanwhile: ask from there
                if now != state:
                    state, quiet_since = now, time.monotonic()
                late = shared.left(deadline) <= last
                if may_hold and not held and not late and time.monotonic() - quiet_since >= HOLD_AFTER:
                    shared.take_hold()
                    held, held_at = True, (question.refuted, offered)
                elif held and late and (question.refuted, offered) == held_at:
                    # Unless a bound fell or a schedule came meanwhile: the next answer, due soon,
                    # is the optimum.
                    shared.release_hold()
                    held = False
        finally:
            if held:
                shared.release_hold()
            question.stop()
        _take(problem, shared, question, weight)
        with shared.lock:
            if shared.lower <= k and (shared.best is None or shared.best_breaks - 1 >= upto):
                return  # nothing learnt: the end, or the child failed; CP-SAT goes on alone


def _take(problem: Problem, shared: Shared, question: Question, weight: int) -> None:
    """Hand on what a finished question found: a schedule (checked), or a bound."""
    if question.refuted >= 0:
        shared.raise_lower(question.refuted + 1)
    if question.answer is None:
        return
    verdict, schedule = question.answer
    if verdict == "none":
        shared.mark_infeasible()
    if schedule is not None:
        _offer(problem, shared, schedule, weight)


def _offer(problem: Problem, shared: Shared, schedule: dict[str, int], weight: int) -> None:
    if not check_solution(problem, schedule):  # a schedule breaking a rule would be a bug here
        shared.offer(schedule, sum(breaks_by_participant(problem, schedule).values()), weight)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or not all(arg.isdigit() for arg in argv):
        print("usage: python -m scheduler.sat K SECONDS UPTO < PROBLEM.json", file=sys.stderr)
        return 2
    # Gone after SECONDS even if whoever asked is gone too and cannot stop it.
    signal.alarm(int(argv[1]))
    os.nice(NICE)
    problem = problem_from_dict(json.load(sys.stdin))

    def refuted(k: int) -> None:
        print(json.dumps({"no": k}), flush=True)

    def found(schedule: dict[str, int]) -> None:
        print(json.dumps({"found": schedule}), flush=True)

    verdict, schedule = solve_window(problem, int(argv[0]), int(argv[2]), refuted, found)
    print(json.dumps({"verdict": verdict, "schedule": schedule}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
