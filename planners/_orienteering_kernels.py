"""Compiled ruin-and-recreate local search behind :mod:`planners.orienteering`.

Nothing here validates its inputs; :mod:`planners.orienteering` calls these functions with the
scaled integer model of a problem (C-contiguous int64 arrays, one dtype each, so each kernel
compiles once) and a route that is feasible in it.

Model (as in :mod:`planners.orienteering`): ``arc[i, j]`` is the integer travel time, ``NO_ARC``
where there is no arc; ``svc``, ``lo`` and ``hi`` are service time and the bounds of the service
start (window open and close); the route is ``r[0] = s, ..., r[L - 1] = e``; arriving early
means waiting; ``prize`` is collected once per node. A route is feasible when every arc exists
and every arrival is at most ``hi`` of its node. Everything is integer arithmetic: no rounding.

Schedule arrays of a route: ``arr[k]`` arrival, ``beg[k] = max(arr[k], lo)`` service start and
``ms[k]``, how much ``beg[k]`` may be delayed without making a later node late (the "max shift"
of Vansteenwegen et al. 2009), so that an insertion is tested in O(1).

The search (:func:`search`) is a ruin-and-recreate iterated local search, after Schrimpf et al.
(2000) and the string removals of Christiaens & Vanden Berghe (2020), with the insertion rule of
Vansteenwegen et al. (2009) for the orienteering problem with time windows:

1. ruin: drop a string of consecutive stops, the stops near a random node, or random stops;
2. recreate: insert free nodes by best ratio ``prize**2 / shift`` while any insertion fits, with
   random "blinks" (a candidate position is skipped with a small probability) and noise;
3. local search: 2-opt, or-opt (segments of 1-3 stops) and in-place swaps of a stop for a free
   node of higher prize, then recreate again; accepted when the travel time drops (making room)
   or the prize grows;
4. acceptance: a threshold on prize that shrinks to zero over the run, and a return to the best
   route after a run of iterations without improvement.

Randomness comes from a splitmix64 generator whose state the caller passes in, so a run is a
pure function of its inputs (no global random state; safe in threads, ``nogil``). Work is
counted in elementary steps (one candidate position evaluated, one node rescheduled) and the
search stops at a work limit: a deterministic, machine-independent budget.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NO_ARC = 1 << 50
#: Work counted for the fixed cost of one search step, whatever the route (calls, copies).
STEP_WORK = 500

# Slots of the float64 parameter vector of `search`.
P_MAX_RUIN = 0  # most stops removed by one ruin
P_BLINK = 1  # probability of skipping a candidate position when recreating
P_NOISE = 2  # relative noise on insertion ratios
P_THRESHOLD = 3  # initial acceptance threshold, relative to the current prize
P_RESET = 4  # iterations without a new best before going back to the best route
N_PARAMS = 5


@njit(cache=True, nogil=True)
def _next(state: np.ndarray) -> np.uint64:
    """splitmix64: advance ``state[0]`` and return 64 random bits."""
    z = np.uint64(state[0]) + np.uint64(0x9E3779B97F4A7C15)
    state[0] = np.int64(z)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, nogil=True)
def _uniform(state: np.ndarray) -> float:
    """Uniform float in [0, 1)."""
    return float(_next(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True)
def _below(state: np.ndarray, n: int) -> int:
    """Uniform integer in [0, n), n >= 1."""
    return int(_next(state) % np.uint64(n))


@njit(cache=True, nogil=True)
def schedule(r, n, arc, svc, lo, hi, arr, beg) -> bool:
    """Fill ``arr`` and ``beg`` for ``r[:n]``; False if an arc is missing or a node is late."""
    arr[0] = lo[r[0]]
    beg[0] = lo[r[0]]
    for k in range(1, n):
        c = arc[r[k - 1], r[k]]
        if c >= NO_ARC:
            return False
        a = beg[k - 1] + svc[r[k - 1]] + c
        if a > hi[r[k]]:
            return False
        arr[k] = a
        beg[k] = max(a, lo[r[k]])
    return True


@njit(cache=True, nogil=True)
def _max_shift(r, n, hi, arr, beg, ms) -> None:
    ms[n - 1] = hi[r[n - 1]] - beg[n - 1]
    for k in range(n - 2, -1, -1):
        ms[k] = min(hi[r[k]] - beg[k], beg[k + 1] - arr[k + 1] + ms[k + 1])


@njit(cache=True, nogil=True)
def _travel(r, n, arc) -> int:
    t = 0
    for k in range(1, n):
        t += arc[r[k - 1], r[k]]
    return t


@njit(cache=True, nogil=True)
def _prize(r, n, prize) -> int:
    p = 0
    for k in range(n):
        p += prize[r[k]]
    return p


@njit(cache=True, nogil=True)
def _fill(r, n, on, free, arc, svc, lo, hi, prize, arr, beg, ms, blink, noise, state, work):
    """Insert free nodes by best ratio while one fits; return the new length.

    ``work[0]`` counts candidate positions evaluated. ``free`` is scratch space.
    """
    m = len(on)
    while True:
        nf = 0
        for u in range(m):
            if not on[u] and prize[u] > 0:
                free[nf] = u
                nf += 1
        if nf == 0:
            return n
        _max_shift(r, n, hi, arr, beg, ms)
        best_u = -1
        best_k = -1
        best_ratio = -1.0
        for k in range(n - 1):
            a0 = r[k]
            b0 = r[k + 1]
            leave = beg[k] + svc[a0]
            room = beg[k + 1] - arr[k + 1] + ms[k + 1]
            for f in range(nf):
                u = free[f]
                c1 = arc[a0, u]
                c2 = arc[u, b0]
                if c1 >= NO_ARC or c2 >= NO_ARC:
                    continue
                a = leave + c1
                if a > hi[u]:
                    continue
                shift = max(a, lo[u]) + svc[u] + c2 - arr[k + 1]
                if shift > room:
                    continue
                if blink > 0.0 and _uniform(state) < blink:
                    continue
                p = float(prize[u])
                ratio = p * p / float(max(shift, 1))
                if noise > 0.0:
                    ratio *= 1.0 + noise * _uniform(state)
                if ratio > best_ratio:
                    best_ratio = ratio
                    best_u = u
                    best_k = k
        work[0] += (n - 1) * nf
        if best_u < 0:
            return n
        for q in range(n, best_k + 1, -1):
            r[q] = r[q - 1]
        r[best_k + 1] = best_u
        n += 1
        on[best_u] = True
        schedule(r, n, arc, svc, lo, hi, arr, beg)
        work[0] += n


@njit(cache=True, nogil=True)
def _two_opt(r, n, arc, svc, lo, hi, arr, beg, tmp, fwd, bwd, work) -> bool:
    """Apply the first 2-opt move that shortens the travel and stays feasible."""
    fwd[0] = 0
    bwd[0] = 0
    for k in range(1, n):
        fwd[k] = fwd[k - 1] + arc[r[k - 1], r[k]]
        bwd[k] = bwd[k - 1] + arc[r[k], r[k - 1]]
    for i in range(1, n - 2):
        for j in range(i + 1, n - 1):
            old = arc[r[i - 1], r[i]] + (fwd[j] - fwd[i]) + arc[r[j], r[j + 1]]
            new = arc[r[i - 1], r[j]] + (bwd[j] - bwd[i]) + arc[r[i], r[j + 1]]
            work[0] += 1
            if new >= old:
                continue
            for q in range(n):
                tmp[q] = r[q]
            for q in range(i, j + 1):
                tmp[q] = r[i + j - q]
            work[0] += n
            if schedule(tmp, n, arc, svc, lo, hi, arr, beg):
                for q in range(n):
                    r[q] = tmp[q]
                return True
    schedule(r, n, arc, svc, lo, hi, arr, beg)
    return False


@njit(cache=True, nogil=True)
def _or_opt(r, n, arc, svc, lo, hi, arr, beg, tmp, work) -> bool:
    """Apply the first move of 1-3 consecutive stops elsewhere that shortens the travel."""
    for size in range(1, 4):
        for i in range(1, n - size):
            j = i + size - 1  # segment r[i..j]
            if j >= n - 1:
                break
            a, b = r[i - 1], r[j + 1]
            first, last = r[i], r[j]
            cut = arc[a, first] + arc[last, b] - arc[a, b]
            if arc[a, b] >= NO_ARC:
                continue
            for k in range(n - 1):  # insert between r[k] and r[k + 1]
                if k >= i - 1 and k <= j:
                    continue
                x, y = r[k], r[k + 1]
                add = arc[x, first] + arc[last, y] - arc[x, y]
                work[0] += 1
                if add - cut >= 0:
                    continue
                # build the moved route
                q = 0
                for t in range(n):
                    if t >= i and t <= j:
                        continue
                    tmp[q] = r[t]
                    q += 1
                    if t == k:
                        for s2 in range(i, j + 1):
                            tmp[q] = r[s2]
                            q += 1
                work[0] += n
                if schedule(tmp, n, arc, svc, lo, hi, arr, beg):
                    for t in range(n):
                        r[t] = tmp[t]
                    return True
    schedule(r, n, arc, svc, lo, hi, arr, beg)
    return False


@njit(cache=True, nogil=True)
def _swap_in(r, n, on, arc, svc, lo, hi, prize, arr, beg, ms, work) -> bool:
    """Replace one stop, in place, by the free node that gains the most prize and fits."""
    m = len(on)
    _max_shift(r, n, hi, arr, beg, ms)
    best_gain = 0
    best_k = -1
    best_u = -1
    for k in range(1, n - 1):
        v = r[k]
        a0 = r[k - 1]
        b0 = r[k + 1]
        leave = beg[k - 1] + svc[a0]
        room = beg[k + 1] - arr[k + 1] + ms[k + 1]
        for u in range(m):
            if on[u] or prize[u] - prize[v] <= best_gain:
                continue
            c1 = arc[a0, u]
            c2 = arc[u, b0]
            if c1 >= NO_ARC or c2 >= NO_ARC:
                continue
            a = leave + c1
            if a > hi[u]:
                continue
            if max(a, lo[u]) + svc[u] + c2 - arr[k + 1] > room:
                continue
            best_gain = prize[u] - prize[v]
            best_k = k
            best_u = u
        work[0] += m
    if best_k < 0:
        return False
    on[r[best_k]] = False
    on[best_u] = True
    r[best_k] = best_u
    schedule(r, n, arc, svc, lo, hi, arr, beg)
    return True


@njit(cache=True, nogil=True)
def _remove_at(r, n, on, k) -> int:
    on[r[k]] = False
    for q in range(k, n - 1):
        r[q] = r[q + 1]
    return n - 1


@njit(cache=True, nogil=True)
def _ruin(r, n, on, near, arc, svc, lo, hi, arr, beg, tmp, count, state, work) -> int:
    """Remove up to ``count`` stops (string, neighbourhood or random); keep feasibility."""
    stops = n - 2
    if stops <= 0:
        return n
    count = min(count, stops)
    mode = _below(state, np.int64(3))  # not the literal 3: that compiles a second _below
    if mode == 0:  # a string of consecutive stops
        first = 1 + _below(state, stops - count + 1)
        for q in range(n):
            tmp[q] = r[q]
        nn = n
        for _ in range(count):
            nn = _remove_at(tmp, nn, on, first)
        work[0] += n
        if schedule(tmp, nn, arc, svc, lo, hi, arr, beg):
            for q in range(nn):
                r[q] = tmp[q]
            return nn
        for q in range(n):  # the bypass breaks the route: undo, fall back to one by one
            on[r[q]] = True
        mode = 2
    removed = 0
    if mode == 1:  # stops near a random node
        seed_node = _below(state, near.shape[0])
        for t in range(near.shape[1]):
            if removed >= count:
                break
            v = near[seed_node, t]
            for k in range(1, n - 1):
                if r[k] == v:
                    for q in range(n):
                        tmp[q] = r[q]
                    nn = _remove_at(tmp, n, on, k)
                    work[0] += n
                    if schedule(tmp, nn, arc, svc, lo, hi, arr, beg):
                        for q in range(nn):
                            r[q] = tmp[q]
                        n = nn
                        removed += 1
                    else:
                        on[v] = True
                    break
    tries = 0
    while removed < count and n > 2 and tries < 4 * count:  # random stops
        tries += 1
        k = 1 + _below(state, n - 2)
        for q in range(n):
            tmp[q] = r[q]
        v = r[k]
        nn = _remove_at(tmp, n, on, k)
        work[0] += n
        if schedule(tmp, nn, arc, svc, lo, hi, arr, beg):
            for q in range(nn):
                r[q] = tmp[q]
            n = nn
            removed += 1
        else:
            on[v] = True
    schedule(r, n, arc, svc, lo, hi, arr, beg)
    return n


@njit(cache=True, nogil=True)
def _improve(r, n, on, free, arc, svc, lo, hi, prize, arr, beg, ms, tmp, fwd, bwd, state, work):
    """Local search to a local optimum of 2-opt, or-opt, swap-in and insertion."""
    for _ in range(1000):
        moved = False
        while _two_opt(r, n, arc, svc, lo, hi, arr, beg, tmp, fwd, bwd, work):
            moved = True
        while _or_opt(r, n, arc, svc, lo, hi, arr, beg, tmp, work):
            moved = True
        n2 = _fill(r, n, on, free, arc, svc, lo, hi, prize, arr, beg, ms, 0.0, 0.0, state, work)
        if n2 != n:
            moved = True
            n = n2
        if _swap_in(r, n, on, arc, svc, lo, hi, prize, arr, beg, ms, work):
            moved = True
        if not moved:
            break
    return n


@njit(cache=True, nogil=True)
def search(
    arc,
    svc,
    lo,
    hi,
    prize,
    near,
    cur,
    cur_n,
    best,
    best_n,
    state,
    params,
    work_limit,
    work_offset,
    work_total,
):
    """Run the ruin-and-recreate search from ``cur``; return ``(cur_n, best_n, work, steps)``.

    ``cur[:cur_n]`` and ``best[:best_n]`` are feasible routes (capacity ``len(prize) + 1``);
    both are updated in place, so a search can be resumed: ``state`` holds the random state
    (slot 0) and the count of iterations since the best last improved (slot 1), and the
    acceptance threshold shrinks with ``(work_offset + work done) / work_total``.
    """
    m = len(prize)
    arr = np.empty(m + 1, dtype=np.int64)
    beg = np.empty(m + 1, dtype=np.int64)
    ms = np.empty(m + 1, dtype=np.int64)
    tmp = np.empty(m + 1, dtype=np.int64)
    fwd = np.empty(m + 1, dtype=np.int64)
    bwd = np.empty(m + 1, dtype=np.int64)
    free = np.empty(m + 1, dtype=np.int64)
    cand = np.empty(m + 1, dtype=np.int64)
    on = np.zeros(m, dtype=np.bool_)
    work = np.zeros(1, dtype=np.int64)
    max_ruin = int(params[P_MAX_RUIN])
    blink = params[P_BLINK]
    noise = params[P_NOISE]
    threshold0 = params[P_THRESHOLD]
    reset = int(params[P_RESET])

    # polish the starting route
    for q in range(m):
        on[q] = False
    for q in range(cur_n):
        on[cur[q]] = True
    schedule(cur, cur_n, arc, svc, lo, hi, arr, beg)
    cur_n = _improve(
        cur, cur_n, on, free, arc, svc, lo, hi, prize, arr, beg, ms, tmp, fwd, bwd, state, work
    )
    cur_prize = _prize(cur, cur_n, prize)
    best_prize = _prize(best, best_n, prize)
    best_travel = _travel(best, best_n, arc)
    if cur_prize > best_prize or (
        cur_prize == best_prize and _travel(cur, cur_n, arc) < best_travel
    ):
        for q in range(cur_n):
            best[q] = cur[q]
        best_n = cur_n
        best_prize = cur_prize
        best_travel = _travel(best, best_n, arc)
    steps = 0
    stale = state[1]
    while work[0] < work_limit:
        steps += 1
        work[0] += STEP_WORK + m  # the fixed cost of a step: every step counts, the loop ends
        for q in range(cur_n):
            cand[q] = cur[q]
        n = cur_n
        for q in range(m):
            on[q] = False
        for q in range(n):
            on[cand[q]] = True
        schedule(cand, n, arc, svc, lo, hi, arr, beg)
        count = 1 + _below(state, max(1, min(max_ruin, n - 2)))
        n = _ruin(cand, n, on, near, arc, svc, lo, hi, arr, beg, tmp, count, state, work)
        n = _fill(
            cand, n, on, free, arc, svc, lo, hi, prize, arr, beg, ms, blink, noise, state, work
        )
        n = _improve(
            cand, n, on, free, arc, svc, lo, hi, prize, arr, beg, ms, tmp, fwd, bwd, state, work
        )
        p = _prize(cand, n, prize)
        t = _travel(cand, n, arc)
        if p > best_prize or (p == best_prize and t < best_travel):
            if p > best_prize:
                stale = 0
            for q in range(n):
                best[q] = cand[q]
            best_n = n
            best_prize = p
            best_travel = t
        else:
            stale += 1
        frac = min(1.0, (work_offset + float(work[0])) / max(work_total, 1.0))
        threshold = threshold0 * (1.0 - frac) * float(cur_prize)
        if float(p) >= float(cur_prize) - threshold:
            for q in range(n):
                cur[q] = cand[q]
            cur_n = n
            cur_prize = p
        if reset > 0 and stale > 0 and stale % reset == 0:
            for q in range(best_n):
                cur[q] = best[q]
            cur_n = best_n
            cur_prize = best_prize
    state[1] = stale
    return cur_n, best_n, work[0], steps


# --------------------------------------------------------------------------------------------
# ng-route dynamic programming: an upper bound for time windows
# --------------------------------------------------------------------------------------------
#
# The best prize of a *walk* from s to e on a time grid that keeps every rule of a route except
# that a node may be entered again once the walk has passed through nodes whose neighbourhood
# does not contain it (ng-routes, Baldacci, Mingozzi & Roberti 2011). Node i has a neighbourhood
# N(i) of at most 16 nodes, itself first; a walk at i carries a memory M, a subset of N(i) as
# bits, of the nodes it may not enter; leaving i for j needs j not in M, and the memory at j is
# (M & N(j)) | {j}. An elementary route keeps these rules, so the best walk bounds every route.
# ``dur[i, j]`` (grid steps, -1: no arc) is service at i plus travel, ``lo``/``hi`` the bounds
# of the service start and ``lat`` the latest service start from which e is still reachable;
# the caller rounds everything so that a route's grid times never exceed its true times.


@njit(cache=True, nogil=True)
def ng_bits(trans):
    """Neighbourhood size (bits of a memory) that ``trans`` was built for."""
    return trans[0, 0, 2, 0]


@njit(cache=True, nogil=True)
def ng_move(trans, i, j, mask):
    """The memory at ``j`` after leaving ``i`` with memory ``mask`` (two 8-bit lookups)."""
    return trans[i, j, 0, mask & 255] | trans[i, j, 1, (mask >> 8) & 255]


def ng_tables(members, n: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The ng-neighbourhoods as the kernels read them (plain numpy, not compiled).

    ``nodes[i, :len(members[i])]`` lists node i's neighbourhood, padded with i itself (its
    bit never set); ``pos[i, j]`` is j's place in it, -1 outside.
    """
    nodes = np.zeros((n, width), dtype=np.int64)
    pos = np.full((n, n), -1, dtype=np.int64)
    for i, mem in enumerate(members):
        nodes[i, :] = i
        nodes[i, : len(mem)] = mem
        pos[i, mem] = np.arange(len(mem))
    return nodes, pos


@njit(cache=True, nogil=True)
def ng_translations(ng, ng_pos):
    """Lookup tables of :func:`ng_move`: ``trans[i, j, h, B]`` maps the bits ``B`` of byte ``h``.

    ``ng[i]`` lists N(i) (padded with i), ``ng_pos[i, j]`` is j's bit in N(i) or -1. The bit
    of ``j`` itself is in every entry of byte 0; ``trans[0, 0, 2, 0]`` holds the size ``k``.
    """
    n, k = ng.shape
    out = np.zeros((n, n, 3, 256), dtype=np.int32)
    for i in range(n):
        for j in range(n):
            for h in range(2):
                for byte in range(256):
                    nm = (1 << ng_pos[j, j]) if h == 0 else 0
                    for q in range(8):
                        b = 8 * h + q
                        if b < k and (byte >> q) & 1:
                            p = ng_pos[j, ng[i, b]]
                            if p >= 0:
                                nm |= 1 << p
                    out[i, j, h, byte] = nm
    out[0, 0, 2, 0] = k
    return out


@njit(cache=True, nogil=True)
def ng_fill(dur, lo, hi, lat, prize, ng_pos, trans, order, s, e, horizon, neg, work_limit):
    """Fill ``table[t, i, M]``, the best prize of a walk at ``i`` starting service at ``t``.

    Layer by layer in ``t``; waiting is allowed, so a layer starts as the one before and only
    states that improved on it are extended (the earlier, equal state already reached every
    later arrival). ``order`` lists the nodes with ``s`` first: arcs out of ``s`` may take zero
    steps (every other duration into a node other than ``e`` takes at least one), and their
    heads are then extended later in the same layer. Returns ``(best, table, work)``: the best
    prize of a walk reaching ``e``
    (``neg``: none, or the work limit was reached first), the table and the work done (one
    unit per state looked at and per extension tried).
    """
    n = dur.shape[0]
    masks = 1 << ng_bits(trans)
    table = np.full((horizon + 1, n, masks), neg, dtype=prize.dtype)
    t0 = lo[s]
    table[t0, s, 1] = 0
    best = neg
    work = 0
    for t in range(t0, horizon + 1):
        work += n * masks
        if work > work_limit:
            return neg, table, work
        for i in order:
            if i == e:
                continue
            for mask in range(masks):
                v = table[t, i, mask]
                if t > t0 and table[t - 1, i, mask] >= v:
                    table[t, i, mask] = table[t - 1, i, mask]  # waiting keeps the state
                    continue
                if v == neg:
                    continue
                work += n
                for j in range(n):
                    d = dur[i, j]
                    if d < 0 or j == i or j == s:
                        continue
                    b = ng_pos[i, j]
                    if b >= 0 and (mask >> b) & 1:
                        continue
                    arrive = t + d
                    if arrive > hi[j]:
                        continue
                    if j == e:
                        if v > best:
                            best = v
                        continue
                    begin = max(arrive, lo[j])
                    if begin > lat[j]:
                        continue
                    nm = ng_move(trans, i, j, mask)
                    w = v + prize[j]
                    if w > table[begin, j, nm]:
                        table[begin, j, nm] = w
    return best, table, work


@njit(cache=True, nogil=True)
def ng_walk(table, dur, lo, hi, prize, ng_pos, trans, s, e, best):
    """One best walk, traced back through a filled table: its nodes, ``e`` first.

    It may stop short of ``s`` (it is used to grow the neighbourhoods, never for the bound).
    """
    n = dur.shape[0]
    masks = 1 << ng_bits(trans)
    t0 = lo[s]
    out = [e]
    ci, ct, cm = -1, -1, -1
    for t in range(t0, table.shape[0]):
        for i in range(n):
            d = dur[i, e]
            if ci >= 0 or i == e or d < 0 or t + d > hi[e]:
                continue
            for mask in range(masks):
                if table[t, i, mask] == best:
                    ci, ct, cm = i, t, mask
                    break
    while ci >= 0:
        out.append(ci)
        if ci == s:
            break
        v = table[ct, ci, cm]
        while ct > t0 and table[ct - 1, ci, cm] == v:
            ct -= 1
        found = False
        for i in range(n):
            d = dur[i, ci]
            if d < 0 or i == e or i == ci:
                continue
            b = ng_pos[i, ci]
            first = ct - d if ct > lo[ci] else t0  # waiting for the window: any earlier time
            for t in range(max(first, t0), ct - d + 1):
                if t + d > hi[ci]:
                    continue
                for mask in range(masks):
                    if table[t, i, mask] + prize[ci] != v or ng_move(trans, i, ci, mask) != cm:
                        continue
                    if b >= 0 and (mask >> b) & 1:
                        continue
                    ci, ct, cm = i, t, mask
                    found = True
                    break
                if found:
                    break
            if found:
                break
        if not found:
            break
    return out
