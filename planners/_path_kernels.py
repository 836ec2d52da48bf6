"""Compiled kernels behind :mod:`planners.paths`.

Nothing here validates its inputs; :mod:`planners.paths` does that first and then calls these
functions with C-contiguous flat arrays of fixed dtypes, so each kernel compiles once.

Conventions shared by every kernel
----------------------------------
- Cells are flat indices ``v = row * ncols + col`` into float64 rasters. The searches work on
  rasters padded with one ring of keep-out cells (``width = ncols + 2``), so they need no bounds
  checks; the other kernels take the raster as given.
- The 8 moves are numbered as in ``DR``/``DC`` below; move ``d`` and move ``7 - d`` are opposite.
- Edge cost is scikit-image's ``MCP_Geometric`` convention, ``len * (c_u + c_v) / 2`` with
  ``len = res`` or ``res * sqrt(2)``, plus the optional climb term
  ``up_w * max(dz, 0) + down_w * max(-dz, 0)`` with ``dz = z_v - z_u``.
- ``par[v]`` holds the move that reached ``v`` (0..7), ``NO_PARENT`` (8) for sources and
  untouched cells, and the ``CLOSED`` bit once ``v`` is settled.
- A cell is untouched while ``g[v] == inf``; work areas are reset through the ``touched`` list
  (or one sequential fill when a search reached much of the raster), so repeated searches cost
  what they reach, not the raster size.

Priority queues
---------------
``bucket_search`` is Dinitz's bucket variant of Dijkstra, run on the reduced costs of A*: with the
heuristic ``h = alpha * octile * c_min * res`` (plus an admissible climb bound) every reduced edge
cost is at least ``(1 - alpha) * c_min * res``, so every cell in the lowest non-empty bucket of
that width is already final and can be settled in any order. Buckets live in a circular array of
singly linked lists, popped last in, first out; stale entries are skipped on pop (lazy deletion).
The order is deterministic. When ``c_min == 0`` or the cost range would need too many buckets,
``heap_search`` (a binary heap, same contract, full octile heuristic) is used.

Both searches are resumable: when their entry pool is full they return ``GROW`` with their state in
``st``; the caller enlarges the pool and calls again. (Reallocating inside the hot loop made numba
reload the arrays on every access: the whole search ran several times slower.)
"""

from __future__ import annotations

import numpy as np
from numba import njit

SQRT2 = float(np.sqrt(2.0))
DR = np.array([-1, -1, -1, 0, 0, 1, 1, 1], dtype=np.int64)
DC = np.array([-1, 0, 1, -1, 1, -1, 0, 1], dtype=np.int64)
DIAG = np.array([1, 0, 1, 0, 0, 1, 0, 1], dtype=np.int64)

NO_PARENT = 8
CLOSED = 16
DIR_MASK = 15

# Search status codes.
DONE = 0  # queue empty, or every remaining entry is beyond max_cost
GOAL = 1  # the goal is settled
TARGETS = 2  # every marked target is settled
GROW = 3  # entry pool full: enlarge it and call again

# Slots of the int64 state vector ``st`` shared by both searches.
ST_CUR = 0  # bucket search: lowest bucket that may be non-empty (absolute number)
ST_FREE = 1  # bucket search: head of the free list of pool slots (-1: none)
ST_TOP = 2  # bucket search: pool slots ever used; heap search: heap size
ST_COUNT = 3  # bucket search: live entries in the buckets
ST_TOUCHED = 4  # cells recorded in ``touched``
ST_TARGETS = 5  # targets still to settle (-1: no target stop)
ST_FRESH = 6  # 1 until the sources have been pushed
ST_SETTLED = 7  # cells settled so far
ST_SIZE = 8


@njit(cache=True, nogil=True)
def scan_costs(c):
    """One pass over a flat cost raster: NaN and negative counts, finite min and max.

    Returns ``(n_nan, first_nan, n_neg, first_neg, n_finite, cmin, cmax)``; ``first_*`` is -1 when
    the count is 0, ``cmin``/``cmax`` are ``inf``/``-inf`` when no cell is finite.
    """
    n_nan = 0
    first_nan = -1
    n_neg = 0
    first_neg = -1
    n_finite = 0
    cmin = np.inf
    cmax = -np.inf
    for i in range(c.size):
        x = c[i]
        if x != x:
            n_nan += 1
            if first_nan < 0:
                first_nan = i
        elif x < 0.0:
            n_neg += 1
            if first_neg < 0:
                first_neg = i
        elif x < np.inf:
            n_finite += 1
            if x < cmin:
                cmin = x
            if x > cmax:
                cmax = x
    return n_nan, first_nan, n_neg, first_neg, n_finite, cmin, cmax


@njit(cache=True, nogil=True)
def scan_elevation(c, z, nrows, ncols):
    """Largest ``|dz|`` between 8-neighbours that are both passable, and the first bad cell.

    Returns ``(max_abs_dz, first_bad)`` where ``first_bad`` is the first passable cell whose
    elevation is not finite (-1 if none).
    """
    max_dz = 0.0
    first_bad = -1
    for r in range(nrows):
        for col in range(ncols):
            u = r * ncols + col
            if not c[u] < np.inf:
                continue
            zu = z[u]
            if not (zu - zu == 0.0):
                if first_bad < 0:
                    first_bad = u
                continue
            # Half of the moves suffice: the other half are the same pairs reversed.
            for d in range(4, 8):
                vr = r + DR[d]
                vc = col + DC[d]
                if vr < 0 or vr >= nrows or vc < 0 or vc >= ncols:
                    continue
                v = vr * ncols + vc
                if not c[v] < np.inf:
                    continue
                dz = abs(z[v] - zu)
                if dz > max_dz:
                    max_dz = dz
    return max_dz, first_bad


@njit(cache=True, nogil=True, inline="always")
def _climb(zu, zv, up_w, down_w):
    dz = zv - zu
    if dz > 0.0:
        return up_w * dz
    return -down_w * dz


@njit(cache=True, nogil=True, inline="always")
def _heuristic(vr, vc, goal_r, goal_c, h_scale, use_slope, zv, z_goal, up_w, down_w):
    ar = abs(vr - goal_r)
    ac = abs(vc - goal_c)
    h = h_scale * (max(ar, ac) + (SQRT2 - 1.0) * min(ar, ac))
    if use_slope:
        # Any path from v to the goal climbs at least max(z_goal - z_v, 0) metres in total.
        h += _climb(zv, z_goal, up_w, down_w)
    return h


@njit(cache=True, nogil=True)
def bucket_search(
    c,
    width,
    res,
    z,
    up_w,
    down_w,
    use_slope,
    sources,
    goal,
    h_scale,
    inv_width,
    max_cost,
    tmark,
    g,
    par,
    touched,
    record,
    head,
    pool_next,
    pool_val,
    st,
):
    """Bucket (Dinitz) Dijkstra / A* on a padded raster; see the module docstring.

    Returns a status code. ``goal >= 0`` turns on the heuristic and the goal stop.
    """
    # Cell and slot indices are unsigned in the hot loop: numba skips the negative-index
    # wraparound check for them, which is worth about 20 % here. Negative move offsets wrap
    # modulo 2**64, so ``u + off[d]`` is still the neighbour.
    half = np.empty(8)
    off = np.empty(8, dtype=np.uint64)
    for d in range(8):
        half[d] = 0.5 * res * (SQRT2 if DIAG[d] else 1.0)
        off[d] = np.uint64((DR[d] * width + DC[d]) & 0xFFFFFFFFFFFFFFFF)
    one = np.uint64(1)
    mask = np.uint64(head.size - 1)
    cap = pool_val.size
    cur = np.uint64(st[ST_CUR])
    free = st[ST_FREE]
    top = np.uint64(st[ST_TOP])
    count = st[ST_COUNT]
    n_touched = np.uint64(st[ST_TOUCHED])
    targets_left = st[ST_TARGETS]
    settled = st[ST_SETTLED]
    astar = goal >= 0
    goal_u = np.uint64(goal) if astar else np.uint64(0xFFFFFFFFFFFFFFFF)
    width_u = np.uint64(width)
    goal_r = goal // width if astar else 0
    goal_c = goal - goal_r * width if astar else 0
    z_goal = z[goal] if (astar and use_slope) else 0.0
    if max_cost < np.inf:
        max_bucket = np.uint64(int(max_cost * inv_width) + 1)
    else:
        max_bucket = np.uint64(0xFFFFFFFFFFFFFFFF)

    if st[ST_FRESH]:
        st[ST_FRESH] = 0
        cur = np.uint64(0xFFFFFFFFFFFFFFFF)
        for k in range(sources.size):
            s = np.uint64(sources[k])
            if g[s] == 0.0:
                continue
            if record:
                touched[n_touched] = s
                n_touched += one
            g[s] = 0.0
            par[s] = NO_PARENT
            key = 0.0
            if astar:
                sr = np.int64(s // width_u)
                sc = np.int64(s - np.uint64(sr) * width_u)
                key = _heuristic(
                    sr, sc, goal_r, goal_c, h_scale, use_slope, z[s], z_goal, up_w, down_w
                )
            b = np.uint64(key * inv_width)
            if b < cur:
                cur = b
            slot = top
            top += one
            bi = b & mask
            pool_val[slot] = s
            pool_next[slot] = head[bi]
            head[bi] = np.int64(slot)
            count += 1

    status = DONE
    while count > 0:
        if cap - count < 9:
            status = GROW
            break
        while head[cur & mask] < 0:
            cur += one
        if cur > max_bucket:
            break
        bi = cur & mask
        slot = np.uint64(head[bi])
        head[bi] = pool_next[slot]
        u = np.uint64(pool_val[slot])
        pool_next[slot] = free
        free = np.int64(slot)
        count -= 1
        pu = par[u]
        if pu & CLOSED:
            continue  # stale entry
        gu = g[u]
        if gu > max_cost:
            continue  # beyond the bound: left open, cleared by the caller
        par[u] = pu | CLOSED
        settled += 1
        if u == goal_u:
            status = GOAL
            break
        if targets_left > 0 and tmark[u]:
            targets_left -= 1
            if targets_left == 0:
                status = TARGETS
                break
        ur = 0
        uc = 0
        if astar:
            ur = np.int64(u // width_u)
            uc = np.int64(u - np.uint64(ur) * width_u)
        cu = c[u]
        zu = z[u] if use_slope else 0.0
        # The raster is padded with keep-out, so neighbours need no bounds checks: a move into
        # an inf cell costs inf (or NaN from the climb term) and never passes ``nd < gv``.
        for d in range(8):
            v = u + off[d]
            nd = gu + half[d] * (cu + c[v])
            zv = 0.0
            if use_slope:
                zv = z[v]
                nd += _climb(zu, zv, up_w, down_w)
            gv = g[v]
            if nd < gv:
                if par[v] & CLOSED:
                    continue  # guards against rounding; settled cells are final
                if record and gv == np.inf:
                    touched[n_touched] = v
                    n_touched += one
                g[v] = nd
                par[v] = d
                key = nd
                if astar:
                    key += _heuristic(
                        ur + DR[d],
                        uc + DC[d],
                        goal_r,
                        goal_c,
                        h_scale,
                        use_slope,
                        zv,
                        z_goal,
                        up_w,
                        down_w,
                    )
                b = np.uint64(key * inv_width)
                if b < cur:
                    b = cur  # rounding only: reduced costs are positive
                if free >= 0:
                    slot = np.uint64(free)
                    free = pool_next[slot]
                else:
                    slot = top
                    top += one
                bi = b & mask
                pool_val[slot] = v
                pool_next[slot] = head[bi]
                head[bi] = np.int64(slot)
                count += 1

    st[ST_CUR] = np.int64(cur)
    st[ST_FREE] = free
    st[ST_TOP] = np.int64(top)
    st[ST_COUNT] = count
    st[ST_TOUCHED] = np.int64(n_touched)
    st[ST_TARGETS] = targets_left
    st[ST_SETTLED] = settled
    return status


@njit(cache=True, nogil=True)
def heap_search(
    c,
    width,
    res,
    z,
    up_w,
    down_w,
    use_slope,
    sources,
    goal,
    h_scale,
    max_cost,
    tmark,
    g,
    par,
    touched,
    record,
    heap_key,
    heap_val,
    st,
):
    """Binary-heap Dijkstra / A* with the contract of :func:`bucket_search`.

    ``max_cost`` must be ``inf`` when ``goal >= 0`` (keys include the heuristic).
    """
    half = np.empty(8)
    off = np.empty(8, dtype=np.int64)
    for d in range(8):
        half[d] = 0.5 * res * (SQRT2 if DIAG[d] else 1.0)
        off[d] = DR[d] * width + DC[d]
    cap = heap_val.size
    n = st[ST_TOP]
    n_touched = st[ST_TOUCHED]
    targets_left = st[ST_TARGETS]
    settled = st[ST_SETTLED]
    astar = goal >= 0
    goal_r = goal // width if astar else 0
    goal_c = goal - goal_r * width if astar else 0
    z_goal = z[goal] if (astar and use_slope) else 0.0

    if st[ST_FRESH]:
        st[ST_FRESH] = 0
        for k in range(sources.size):
            s = sources[k]
            if g[s] == 0.0:
                continue
            if record:
                touched[n_touched] = s
                n_touched += 1
            g[s] = 0.0
            par[s] = NO_PARENT
            key = 0.0
            if astar:
                sr = s // width
                sc = s - sr * width
                key = _heuristic(
                    sr, sc, goal_r, goal_c, h_scale, use_slope, z[s], z_goal, up_w, down_w
                )
            i = n
            n += 1
            while i > 0:
                p = (i - 1) >> 1
                if heap_key[p] <= key:
                    break
                heap_key[i] = heap_key[p]
                heap_val[i] = heap_val[p]
                i = p
            heap_key[i] = key
            heap_val[i] = s

    status = DONE
    while n > 0:
        if cap - n < 9:
            status = GROW
            break
        u = heap_val[0]
        if heap_key[0] > max_cost:
            break
        n -= 1
        last_key = heap_key[n]
        last_val = heap_val[n]
        i = 0
        while True:
            child = 2 * i + 1
            if child >= n:
                break
            if child + 1 < n and heap_key[child + 1] < heap_key[child]:
                child += 1
            if heap_key[child] >= last_key:
                break
            heap_key[i] = heap_key[child]
            heap_val[i] = heap_val[child]
            i = child
        if n > 0:
            heap_key[i] = last_key
            heap_val[i] = last_val
        pu = par[u]
        if pu & CLOSED:
            continue
        par[u] = pu | CLOSED
        settled += 1
        if u == goal:
            status = GOAL
            break
        if targets_left > 0 and tmark[u]:
            targets_left -= 1
            if targets_left == 0:
                status = TARGETS
                break
        gu = g[u]
        ur = 0
        uc = 0
        if astar:
            ur = u // width
            uc = u - ur * width
        cu = c[u]
        zu = z[u] if use_slope else 0.0
        for d in range(8):
            v = u + off[d]
            nd = gu + half[d] * (cu + c[v])
            zv = 0.0
            if use_slope:
                zv = z[v]
                nd += _climb(zu, zv, up_w, down_w)
            gv = g[v]
            if nd < gv:
                if par[v] & CLOSED:
                    continue
                if record and gv == np.inf:
                    touched[n_touched] = v
                    n_touched += 1
                g[v] = nd
                par[v] = d
                key = nd
                if astar:
                    key += _heuristic(
                        ur + DR[d],
                        uc + DC[d],
                        goal_r,
                        goal_c,
                        h_scale,
                        use_slope,
                        zv,
                        z_goal,
                        up_w,
                        down_w,
                    )
                i = n
                n += 1
                while i > 0:
                    p = (i - 1) >> 1
                    if heap_key[p] <= key:
                        break
                    heap_key[i] = heap_key[p]
                    heap_val[i] = heap_val[p]
                    i = p
                heap_key[i] = key
                heap_val[i] = v

    st[ST_TOP] = n
    st[ST_TOUCHED] = n_touched
    st[ST_TARGETS] = targets_left
    st[ST_SETTLED] = settled
    return status


@njit(cache=True, nogil=True)
def reset_touched(g, par, touched, n):
    """Return the first ``n`` touched cells to the untouched state (``inf``, no parent)."""
    for k in range(n):
        v = touched[k]
        g[v] = np.inf
        par[v] = NO_PARENT


@njit(cache=True, nogil=True)
def drop_open(g, par, touched, n):
    """Set touched but unsettled cells (beyond a cost bound) back to ``inf``."""
    for k in range(n):
        v = touched[k]
        if not par[v] & CLOSED:
            g[v] = np.inf
            par[v] = NO_PARENT


@njit(cache=True, nogil=True)
def walk_back(par, ncols, end):
    """Flat cells of the tree path ending at ``end``, source first, and its diagonal-move count.

    Returns an empty array if the parent chain is longer than the raster (a corrupt tree).
    """
    n = 1
    v = end
    limit = par.size
    while True:
        d = par[v] & DIR_MASK
        if d == NO_PARENT:
            break
        v -= DR[d] * ncols + DC[d]
        n += 1
        if n > limit:
            return np.empty(0, dtype=np.int64), 0
    out = np.empty(n, dtype=np.int64)
    n_diag = 0
    v = end
    for k in range(n - 1, -1, -1):
        out[k] = v
        d = par[v] & DIR_MASK
        if d == NO_PARENT:
            break
        n_diag += DIAG[d]
        v -= DR[d] * ncols + DC[d]
    return out, n_diag


@njit(cache=True, nogil=True)
def extract_legs(par, ncols, ends):
    """Collect the moves (0..7, source to end) of the tree paths to each cell in ``ends``.

    Returns ``(moves, offsets, n_moves, n_diag)``: the moves of leg ``k`` are
    ``moves[offsets[k]:offsets[k] + n_moves[k]]``. Callers only pass settled ends.
    """
    m = ends.size
    n_moves = np.zeros(m, dtype=np.int64)
    for k in range(m):
        v = ends[k]
        while True:
            d = par[v] & DIR_MASK
            if d == NO_PARENT:
                break
            v -= DR[d] * ncols + DC[d]
            n_moves[k] += 1
    offsets = np.zeros(m, dtype=np.int64)
    total = 0
    for k in range(m):
        offsets[k] = total
        total += n_moves[k]
    moves = np.empty(total, dtype=np.uint8)
    n_diag = np.zeros(m, dtype=np.int64)
    for k in range(m):
        v = ends[k]
        for i in range(offsets[k] + n_moves[k] - 1, offsets[k] - 1, -1):
            d = par[v] & DIR_MASK
            moves[i] = d
            n_diag[k] += DIAG[d]
            v -= DR[d] * ncols + DC[d]
    return moves, offsets, n_moves, n_diag


@njit(cache=True, nogil=True)
def segment_cost(c, nrows, ncols, res, z, up_w, down_w, use_slope, r0, c0, r1, c1):
    """Cost of the straight segment between the centres of cells ``(r0, c0)`` and ``(r1, c1)``.

    The cost is the line integral of the cell costs (metres inside each cell times its cost),
    plus the climb term between successive cells entered; for a single 8-neighbour move this is
    exactly the ``MCP_Geometric`` edge cost. A cell only touched at a corner is not entered.
    Returns ``inf`` if the segment enters an impassable cell.
    """
    ady = abs(r1 - r0)
    adx = abs(c1 - c0)
    if ady == 0 and adx == 0:
        return 0.0
    seg_len = res * np.sqrt(float(adx * adx + ady * ady))
    step_r = 1 if r1 > r0 else -1
    step_c = 1 if c1 > c0 else -1
    # The k-th row boundary (k = 0, 1, ..) is crossed at t = (2k + 1) / (2 ady), the k-th column
    # boundary at t = (2k + 1) / (2 adx); comparing in integers keeps corner crossings exact.
    kr = 0
    kc = 0
    r = r0
    col = c0
    t = 0.0
    total = 0.0
    zu = z[r * ncols + col] if use_slope else 0.0
    while True:
        cu = c[r * ncols + col]
        if not cu < np.inf:
            return np.inf
        has_r = kr < ady
        has_c = kc < adx
        if not has_r and not has_c:
            total += cu * (1.0 - t) * seg_len
            break
        if has_r and has_c:
            order = (2 * kr + 1) * adx - (2 * kc + 1) * ady
        elif has_r:
            order = -1
        else:
            order = 1
        if order <= 0:
            t_next = (2 * kr + 1) / (2.0 * ady)
        else:
            t_next = (2 * kc + 1) / (2.0 * adx)
        total += cu * (t_next - t) * seg_len
        t = t_next
        # order == 0: row and column boundaries meet at a corner; the two side cells are only
        # touched, not entered.
        if order <= 0:
            r += step_r
            kr += 1
        if order >= 0:
            col += step_c
            kc += 1
        if use_slope:
            zv = z[r * ncols + col]
            total += _climb(zu, zv, up_w, down_w)
            zu = zv
    return total


@njit(cache=True, nogil=True)
def smooth_vertices(c, nrows, ncols, res, z, up_w, down_w, use_slope, rows, cols, tol):
    """Greedy line-of-sight shortcutting of a cell path; returns the kept vertex indices.

    From each kept vertex ``a`` the next kept vertex is the farthest ``k`` such that every straight
    segment ``a -> a+2 .. a -> k`` is passable and costs at most ``(1 + tol)`` times the path it
    replaces (scanning stops at the first refusal). Kept as a polyline through cell centres.
    """
    n = rows.size
    # Cost of the input path from vertex 0 to vertex k, each step priced as a segment.
    prefix = np.zeros(n)
    for k in range(1, n):
        prefix[k] = prefix[k - 1] + segment_cost(
            c,
            nrows,
            ncols,
            res,
            z,
            up_w,
            down_w,
            use_slope,
            rows[k - 1],
            cols[k - 1],
            rows[k],
            cols[k],
        )
    keep = np.empty(n, dtype=np.int64)
    m = 0
    keep[m] = 0
    m += 1
    a = 0
    while a < n - 1:
        best = a + 1
        for k in range(a + 2, n):
            sc = segment_cost(
                c, nrows, ncols, res, z, up_w, down_w, use_slope, rows[a], cols[a], rows[k], cols[k]
            )
            # The 1e-12 slack absorbs rounding between the two ways of summing a straight run.
            if sc <= (prefix[k] - prefix[a]) * (1.0 + tol + 1e-12):
                best = k
            else:
                break
        keep[m] = best
        m += 1
        a = best
    return keep[:m]
