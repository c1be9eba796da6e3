"""Service regions: k-means over demand (consultation request locations), K by silhouette or set
by the operator; per region its demand, its doctors, their ratio and a suggested device depot.

Projection: k-means runs on 3-D sphere coordinates in km (`geo.to_sphere_xyz_km`), where Euclidean
distance is the chord: monotone in great-circle distance, no distortion across China, no seam.
Raw latitude/longitude would stretch east-west distances by 1/cos(latitude) (27 % at Beijing).

K: when the operator gives none, each K in `k_range` is fitted (k-means++, 2 starts) on a random
sample of the demand, and the K with the highest mean silhouette on that sample wins (the
silhouette compares each point's distance to its own cluster with the nearest other cluster:
1 is well separated, 0 overlapping). The final fit on all points starts from the sample's centres
(Lloyd's iterations; they converge in a few passes from there).

Depot: the region's demand *medoid* on a sample, i.e. the sampled request location with the least
total great-circle distance to the others. Unlike the centroid it is a real place people asked
from (never a lake between two districts), and it minimises travel rather than squared travel.

Why "plain k-means with the doctors as initial centres" does not match patients to doctors
(`naive_kmeans_matching`, compared in `bench/matching_regions.py`):

1. Centres move. Lloyd's iterations replace each centre by the mean of its patients, so after
   the first step a "doctor" is a point where no doctor is; the patient is then sent to the doctor
   whose centre drifted nearest, not to the doctor nearest to them.
2. No capacities. Each centre takes every patient nearest to it: in dense districts a doctor gets
   far more patients than they can see, while doctors elsewhere get none (empty clusters).
3. Wrong objective. k-means minimises squared distance to centres; dispatch minimises travel
   plus waiting to actual doctors, within each doctor's service radius, which k-means ignores.
The min-cost flow (`assignment.assign_min_cost_flow`) solves the real problem: fixed doctors,
hard capacities, radius limits, convex waiting, and an explicit choice of whom to leave unserved.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from yunyi.matching.assignment import (
    AssignmentProblem,
    AssignmentResult,
    evaluate_assignment,
)
from yunyi.matching.errors import MatchingErrorCode, MatchingInputError
from yunyi.matching.geo import (
    FloatArray,
    chord_to_arc_km,
    from_sphere_xyz,
    haversine_km_array,
    to_sphere_xyz_km,
    validate_points,
)

IntArray = NDArray[np.int64]
K_MIN = 2
K_CAP = 50
DEPOT_SAMPLE = 600


@dataclass(frozen=True)
class Region:
    index: int
    centroid_lat: float
    centroid_lon: float
    demand: int
    doctors: int
    demand_per_doctor: float | None  # None when the region has no doctor
    depot_lat: float
    depot_lon: float
    radius_km: float  # 90th percentile distance of the region's demand from its centroid


@dataclass(frozen=True)
class RegionsResult:
    k: int
    chosen_by: str  # "silhouette" or "operator"
    silhouette: float  # of the final clustering, on a sample
    silhouette_by_k: Mapping[int, float]  # the scores K was chosen from (empty if given)
    regions: tuple[Region, ...]
    labels: IntArray  # region of each demand point
    doctor_labels: IntArray  # region of each doctor (its nearest centre)
    seconds: float


def _check_k(k: object, *, distinct: int, k_cap: int) -> int:
    if (
        isinstance(k, bool)
        or not isinstance(k, int | np.integer)
        or not (K_MIN <= int(k) <= min(k_cap, distinct))
    ):
        raise MatchingInputError(
            MatchingErrorCode.K_OUT_OF_RANGE,
            f"K must be an integer in [{K_MIN}, {min(k_cap, distinct)}]",
            details={"min": K_MIN, "max": min(k_cap, distinct), "distinct_points": distinct},
        )
    return int(k)


def choose_k_by_silhouette(
    points: FloatArray, *, k_range: range, seed: int, eval_size: int = 2000
) -> dict[int, float]:
    """Mean silhouette of a k-means++ fit per K on `points` (already a sample)."""
    from sklearn.cluster import KMeans  # imported on use: web processes start lighter
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(seed)
    scores: dict[int, float] = {}
    for k in k_range:
        labels = KMeans(n_clusters=k, init="k-means++", n_init=2, random_state=seed).fit_predict(
            points
        )
        scores[k] = float(
            silhouette_score(
                points,
                labels,
                sample_size=min(eval_size, len(points)),
                random_state=rng.integers(2**31),
            )
        )
    return scores


def service_regions(
    *,
    demand_lat: ArrayLike,
    demand_lon: ArrayLike,
    doctor_lat: ArrayLike = (),
    doctor_lon: ArrayLike = (),
    k: int | None = None,
    k_range: tuple[int, int] = (2, 12),
    sample_size: int = 10_000,
    seed: int = 0,
    k_cap: int = K_CAP,
) -> RegionsResult:
    """Cluster demand into K regions (given, or chosen by silhouette over `k_range` inclusive)."""
    from sklearn.cluster import KMeans  # imported on use: web processes start lighter
    from sklearn.metrics import silhouette_score

    began = time.perf_counter()
    d_lat, d_lon = validate_points(demand_lat, demand_lon, what="demand")
    doc_lat, doc_lon = validate_points(doctor_lat, doctor_lon, what="doctors")
    xyz = to_sphere_xyz_km(d_lat, d_lon)
    rng = np.random.default_rng(seed)
    sample = xyz if len(xyz) <= sample_size else xyz[rng.choice(len(xyz), sample_size, False)]
    distinct = len(np.unique(np.round(sample, 6), axis=0)) if len(sample) else 0
    if k is not None:
        k = _check_k(k, distinct=distinct, k_cap=k_cap)
        scores: dict[int, float] = {}
        chosen_by = "operator"
    else:
        low = _check_k(k_range[0], distinct=distinct, k_cap=k_cap)
        high = _check_k(k_range[1], distinct=distinct, k_cap=k_cap)
        if high < low:
            raise MatchingInputError(
                MatchingErrorCode.K_OUT_OF_RANGE, "K range is reversed", details={"range": k_range}
            )
        scores = choose_k_by_silhouette(sample, k_range=range(low, high + 1), seed=seed)
        k = max(scores, key=lambda candidate: (scores[candidate], -candidate))
        chosen_by = "silhouette"
    init = KMeans(n_clusters=k, init="k-means++", n_init=3, random_state=seed).fit(sample)
    # Lloyd's iterations on every point, from the sample's centres: they start so close that it
    # converges in a few passes (~1 s for 1,000,000 points here), faster than MiniBatchKMeans,
    # whose per-step overhead dominated at this size (~5 s measured).
    model = KMeans(n_clusters=k, init=init.cluster_centers_, n_init=1, random_state=seed).fit(xyz)
    labels = model.labels_.astype(np.int64)
    centres = model.cluster_centers_
    eval_idx = rng.choice(len(xyz), min(len(xyz), 4000), replace=False)
    silhouette = (
        float(silhouette_score(xyz[eval_idx], labels[eval_idx]))
        if len(np.unique(labels[eval_idx])) > 1
        else 0.0
    )
    doctor_labels = (
        model.predict(to_sphere_xyz_km(doc_lat, doc_lon)).astype(np.int64)
        if doc_lat.size
        else np.empty(0, dtype=np.int64)
    )
    regions = tuple(_region(j, xyz, labels, centres, doctor_labels, rng) for j in range(k))
    return RegionsResult(
        k=k,
        chosen_by=chosen_by,
        silhouette=silhouette,
        silhouette_by_k=scores,
        regions=regions,
        labels=labels,
        doctor_labels=doctor_labels,
        seconds=time.perf_counter() - began,
    )


def _region(
    j: int,
    xyz: FloatArray,
    labels: IntArray,
    centres: FloatArray,
    doctor_labels: IntArray,
    rng: np.random.Generator,
) -> Region:
    members = np.flatnonzero(labels == j)
    c_lat, c_lon = from_sphere_xyz(centres[j])
    doctors = int((doctor_labels == j).sum())
    if members.size == 0:  # k-means can leave a centre without points
        return Region(
            j,
            float(c_lat[0]),
            float(c_lon[0]),
            0,
            doctors,
            None,
            float(c_lat[0]),
            float(c_lon[0]),
            0.0,
        )
    pick = members if members.size <= DEPOT_SAMPLE else rng.choice(members, DEPOT_SAMPLE, False)
    chords = np.linalg.norm(xyz[pick][:, None, :] - xyz[pick][None, :, :], axis=-1)
    arcs = chord_to_arc_km(chords)
    depot_lat, depot_lon = from_sphere_xyz(xyz[pick[int(arcs.sum(axis=1).argmin())]])
    m_lat, m_lon = from_sphere_xyz(xyz[pick])
    spread = haversine_km_array(m_lat, m_lon, c_lat[0], c_lon[0])
    return Region(
        index=j,
        centroid_lat=float(c_lat[0]),
        centroid_lon=float(c_lon[0]),
        demand=int(members.size),
        doctors=doctors,
        demand_per_doctor=(members.size / doctors) if doctors else None,
        depot_lat=float(depot_lat[0]),
        depot_lon=float(depot_lon[0]),
        radius_km=float(np.percentile(spread, 90)),
    )


@dataclass(frozen=True)
class NaiveKMeansOutcome:
    result: AssignmentResult  # cluster j's patients sent to doctor j, costed like every method
    centre_drift_km: FloatArray  # per doctor: how far its centre moved away from the doctor
    doctors_without_patients: int
    out_of_reach: int  # patients sent beyond their doctor's max_travel_km


def naive_kmeans_matching(
    problem: AssignmentProblem, *, seed: int = 0, max_iter: int = 100
) -> NaiveKMeansOutcome:
    """The first sketch: k-means over patients with one centre per doctor, started at the
    doctors, each patient matched to the doctor whose centre it ends up nearest. Kept to show
    what it gets wrong (module docstring); never used to dispatch."""
    from sklearn.cluster import KMeans

    began = time.perf_counter()
    doctors_xyz = to_sphere_xyz_km(problem.doctor_lat, problem.doctor_lon)
    patients_xyz = to_sphere_xyz_km(problem.request_lat, problem.request_lon)
    model = KMeans(
        n_clusters=problem.doctors,
        init=doctors_xyz,
        n_init=1,
        max_iter=max_iter,
        random_state=seed,
    ).fit(patients_xyz)
    plan = model.labels_.astype(np.int64)
    result = evaluate_assignment(
        problem, plan, method="naive_kmeans", seconds=time.perf_counter() - began
    )
    travel = haversine_km_array(
        problem.request_lat,
        problem.request_lon,
        problem.doctor_lat[plan],
        problem.doctor_lon[plan],
    )
    drift = chord_to_arc_km(np.linalg.norm(model.cluster_centers_ - doctors_xyz, axis=1))
    return NaiveKMeansOutcome(
        result=result,
        centre_drift_km=drift,
        doctors_without_patients=int((result.loads == 0).sum()),
        out_of_reach=int((travel > problem.max_travel_km[plan]).sum()),
    )
