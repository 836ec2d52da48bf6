"""A checked traverse plan over 150 candidate stops within 30 s (issue 5 performance).

The site is the default synthetic Mare Frigoris site with the lander at its centre; the hazard
map, horizon map and solar model are built first (not timed); the timed part is
``plan_traverse``: travel matrix, OR-Tools stop selection, the cell-by-cell simulation with
energy, command cycles and drive windows, and the independent check.
"""

from __future__ import annotations

import statistics
import time

from benchmarks.common import verdict


def main() -> None:
    from frigoris.planners.stops import StopRules, candidate_stops
    from frigoris.planners.traverse import Operations, plan_traverse
    from frigoris.rover.app.jobs.inputs import resolve_sun
    from frigoris.rover.energy import SolarModel, rover_model
    from frigoris.rover.planning import HORIZON_SECTORS, default_start
    from frigoris.rover.specs import RESILIENCE, TENACIOUS, hazard_limits, lander_site
    from frigoris.rover.touchdown import PLANNED_TOUCHDOWN_UTC as TOUCHDOWN_TIME
    from frigoris.terrain.hazard import hazard_map
    from frigoris.terrain.illumination import horizon_map
    from frigoris.terrain.synth import synthesize

    site = synthesize(seed=0)
    dem = site.dem
    hm = hazard_map(
        dem,
        hazard_limits(TENACIOUS),
        sun=resolve_sun(dem, when=TOUCHDOWN_TIME),
        lander=lander_site(RESILIENCE, 0.0, 0.0),
        rock_abundance=site.rock_abundance,
    )
    c, r = hm.craters, hm.rocks
    cand = candidate_stops(
        keepout=hm.keepout,
        slope_deg=hm.slope_rover_deg,
        rock_risk=hm.rock_risk,
        transform=dem.transform,
        lander_xy=(0.0, 0.0),
        comm_ok=hm.comm_ok(),
        lander_view=hm.los_lander,
        craters=(c.x, c.y, c.diameter_m, c.depth_m),
        rocks=(r.x, r.y, r.diameter_m),
        rules=StopRules(max_candidates=150, max_per_kind=150, min_spacing_m=6.0),
    )
    solar = SolarModel.build(
        dem, horizon_map(dem, HORIZON_SECTORS), TENACIOUS, TOUCHDOWN_TIME, 10 * 86400.0
    )
    times, plans = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        plan = plan_traverse(
            cost=hm.cost,
            keepout=hm.keepout,
            transform=dem.transform,
            start_cell=default_start(hm, RESILIENCE),
            candidates=cand,
            rover=rover_model(TENACIOUS),
            solar_w=solar,
            ops=Operations(solver_time_limit_s=10.0),
            comm_ok=hm.comm_ok(),
        )
        times.append(time.perf_counter() - t0)
        plans.append(plan)
    t = statistics.median(times)
    p = plans[-1]
    same = all(
        len(q.stops) == len(p.stops) and (q.stops.cells == p.stops.cells).all() for q in plans
    )
    print(
        f"BENCH traverse {len(cand)} candidates: checked plan in {t:.1f} s (target <= 30 s) "
        f"{verdict(t <= 30 and len(cand) >= 150)}; {len(p.stops) - 1} stops, "
        f"{p.distance_m:.0f} m, value {p.value:.1f}, {len(p.dropped)} dropped after simulation; "
        f"identical over 3 runs: {same} (median of 3)",
        flush=True,
    )


if __name__ == "__main__":
    main()
