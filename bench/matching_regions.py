"""Service regions by k-means on 1,000,000 demand points (issue 4). What the min-cost flow gains
over "plain k-means with doctors as initial centres" is `bench/matching_naive_kmeans.py`.

Demand and doctors are spread by population around 36 Chinese cities (`matching.synthetic`).
K is chosen by silhouette over 2..12 on a 10,000-point sample, then k-means runs on all points
(Lloyd's k-means on 3-D sphere coordinates, started from the sample's centres).
"""

from __future__ import annotations

import os
import time

from bench.harness import table
from yunyi.matching.geo import haversine_km_array, to_sphere_xyz_km
from yunyi.matching.regions import choose_k_by_silhouette, service_regions
from yunyi.matching.synthetic import CITIES, synthetic_points

POINTS = int(os.environ.get("BENCH_REGION_POINTS", "1000000"))


def nearest_city(lat: float, lon: float) -> str:
    d = haversine_km_array(lat, lon, [c.lat for c in CITIES], [c.lon for c in CITIES])
    return CITIES[int(d.argmin())].name_en


def main() -> None:
    lat, lon, _ = synthetic_points(POINTS, seed=2026)
    doc_lat, doc_lon, _ = synthetic_points(20_000, seed=2027)

    chosen = service_regions(
        demand_lat=lat, demand_lon=lon, doctor_lat=doc_lat, doctor_lon=doc_lon, k_range=(2, 12)
    )
    began = time.perf_counter()
    fixed = service_regions(
        demand_lat=lat, demand_lon=lon, doctor_lat=doc_lat, doctor_lon=doc_lon, k=chosen.k
    )
    fixed_s = time.perf_counter() - began
    sample = to_sphere_xyz_km(lat[:10_000], lon[:10_000])
    began = time.perf_counter()
    choose_k_by_silhouette(sample, k_range=range(2, 13), seed=0)
    choose_s = time.perf_counter() - began
    scores = ", ".join(f"{k}: {s:.2f}" for k, s in sorted(chosen.silhouette_by_k.items()))
    print(
        table(
            f"k-means service regions on {POINTS:,} demand points and 20,000 doctors (aim < 10 s)",
            ("step", "seconds", "K", "silhouette (4,000-point sample)"),
            [
                ("choose K by silhouette (2..12, 10,000-point sample)", choose_s, "", scores),
                (
                    f"k-means on all points, K={chosen.k} given",
                    fixed_s,
                    fixed.k,
                    f"{fixed.silhouette:.3f}",
                ),
                (
                    "both (service_regions with K chosen)",
                    chosen.seconds,
                    chosen.k,
                    f"{chosen.silhouette:.3f}",
                ),
            ],
        )
    )
    print()
    print(
        table(
            f"Regions (K={chosen.k}), busiest first",
            ("near", "demand", "doctors", "demand/doctor", "radius km", "depot lat", "depot lon"),
            [
                (
                    nearest_city(r.centroid_lat, r.centroid_lon),
                    r.demand,
                    r.doctors,
                    f"{r.demand_per_doctor:.1f}" if r.demand_per_doctor else "no doctor",
                    r.radius_km,
                    f"{r.depot_lat:.4f}",
                    f"{r.depot_lon:.4f}",
                )
                for r in sorted(chosen.regions, key=lambda r: -r.demand)
            ],
        )
    )


if __name__ == "__main__":
    main()
