"""What our matching gains over "plain k-means with the doctors as initial centres", the first
sketch of patient-to-doctor matching for this platform (issue 4).

The sketch: run k-means over the patients with one centre per doctor, started at the doctors'
locations, and send each patient to the doctor whose centre they end up nearest. It ignores
capacities, specialties, modes and service radii, and its centres drift away from the doctors.
All three methods are measured the same way (`assignment.evaluate_assignment`: travel km to the
actual doctor, loads against capacities) on the same synthetic input, built in this process:
requests and doctors spread by population around 36 Chinese cities, doctors with capacities
(~1.25x the mean demand per doctor) and a 30 km service radius.
"""

from __future__ import annotations

import numpy as np

from bench.harness import table
from bench.matching_assign import synthetic_problem
from yunyi.matching.assignment import (
    AssignmentResult,
    assign_greedy_nearest,
    assign_min_cost_flow,
)
from yunyi.matching.regions import naive_kmeans_matching

SIZES = ((2_000, 400), (10_000, 2_000))


def _row(
    name: str, result: AssignmentResult, capacity: np.ndarray, out_of_reach: int
) -> tuple[object, ...]:
    served = max(1, int(result.loads.sum()))
    over = np.maximum(0, result.loads - capacity)
    return (
        name,
        result.seconds,
        result.travel_km,
        result.travel_km / served,
        result.over_capacity,
        int(over.sum()),
        int(over.max()) if over.size else 0,
        out_of_reach,
        int((result.loads == 0).sum()),
        result.unassigned,
    )


def main() -> None:
    for requests, doctors in SIZES:
        problem = synthetic_problem(requests, doctors, seed=requests)
        naive = naive_kmeans_matching(problem)
        greedy = assign_greedy_nearest(problem)
        flow = assign_min_cost_flow(problem)
        print(
            table(
                f"Plain k-means (doctors as initial centres) vs our matching: {requests:,} "
                f"requests, {doctors:,} doctors, 30 km radius",
                (
                    "method",
                    "seconds",
                    "travel km",
                    "km per served",
                    "doctors over capacity",
                    "requests over capacity",
                    "worst overload",
                    "sent beyond radius",
                    "idle doctors",
                    "unassigned",
                ),
                [
                    _row(
                        "k-means, doctors as centres",
                        naive.result,
                        problem.capacity,
                        naive.out_of_reach,
                    ),
                    _row("greedy nearest-first", greedy, problem.capacity, 0),
                    _row("min-cost flow (ours)", flow, problem.capacity, 0),
                ],
            )
        )
        drift = naive.centre_drift_km
        print(
            f"k-means centres drifted from their doctors: median {np.median(drift):.1f} km, "
            f"p95 {np.percentile(drift, 95):.1f} km, max {drift.max():.1f} km"
        )
        print()


if __name__ == "__main__":
    main()
