"""Seeded synthetic but realistic data: doctors and patients spread by population around real
Chinese cities, for tests, benchmarks and the demo.

Each point picks a city with probability proportional to its population, then an offset drawn
from a two-part Gaussian in km: 80 % from the urban core (sigma = 4 km x sqrt(population in
millions), e.g. 20 km for Shanghai, 4 km for Lhasa) and 20 % from the wider suburbs (3x sigma).
Coordinates are city-centre WGS 84 degrees; populations are approximate 2020 census figures for
the municipality or prefecture-level city, used only as weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yunyi.matching.doctor_index import ConsultMode, IndexedDoctor
from yunyi.matching.geo import FloatArray

KM_PER_DEGREE_LAT = 111.32


@dataclass(frozen=True)
class City:
    name_en: str
    name_zh: str
    lat: float
    lon: float
    population_m: float


CITIES: tuple[City, ...] = (
    City("Shanghai", "上海", 31.2304, 121.4737, 24.9),
    City("Beijing", "北京", 39.9042, 116.4074, 21.9),
    City("Guangzhou", "广州", 23.1291, 113.2644, 18.7),
    City("Shenzhen", "深圳", 22.5431, 114.0579, 17.6),
    City("Chongqing", "重庆", 29.5630, 106.5516, 16.0),
    City("Chengdu", "成都", 30.5728, 104.0668, 16.3),
    City("Tianjin", "天津", 39.3434, 117.3616, 13.9),
    City("Xi'an", "西安", 34.3416, 108.9398, 12.9),
    City("Suzhou", "苏州", 31.2989, 120.5853, 12.7),
    City("Zhengzhou", "郑州", 34.7466, 113.6254, 12.6),
    City("Wuhan", "武汉", 30.5928, 114.3055, 12.4),
    City("Hangzhou", "杭州", 30.2741, 120.1551, 12.2),
    City("Shijiazhuang", "石家庄", 38.0428, 114.5149, 11.2),
    City("Dongguan", "东莞", 23.0207, 113.7518, 10.5),
    City("Qingdao", "青岛", 36.0671, 120.3826, 10.1),
    City("Harbin", "哈尔滨", 45.8038, 126.5350, 10.0),
    City("Changsha", "长沙", 28.2282, 112.9388, 10.0),
    City("Hefei", "合肥", 31.8206, 117.2272, 9.4),
    City("Ningbo", "宁波", 29.8683, 121.5440, 9.4),
    City("Nanjing", "南京", 32.0603, 118.7969, 9.3),
    City("Jinan", "济南", 36.6512, 117.1201, 9.2),
    City("Shenyang", "沈阳", 41.8057, 123.4315, 9.1),
    City("Changchun", "长春", 43.8171, 125.3235, 9.1),
    City("Nanning", "南宁", 22.8170, 108.3665, 8.7),
    City("Kunming", "昆明", 25.0389, 102.7183, 8.5),
    City("Fuzhou", "福州", 26.0745, 119.2965, 8.3),
    City("Dalian", "大连", 38.9140, 121.6147, 7.5),
    City("Nanchang", "南昌", 28.6820, 115.8579, 6.3),
    City("Guiyang", "贵阳", 26.6470, 106.6302, 6.0),
    City("Taiyuan", "太原", 37.8706, 112.5489, 5.3),
    City("Xiamen", "厦门", 24.4798, 118.0894, 5.2),
    City("Lanzhou", "兰州", 36.0611, 103.8343, 4.4),
    City("Urumqi", "乌鲁木齐", 43.8256, 87.6168, 4.1),
    City("Hohhot", "呼和浩特", 40.8424, 111.7490, 3.5),
    City("Haikou", "海口", 20.0440, 110.1999, 2.9),
    City("Lhasa", "拉萨", 29.6520, 91.1721, 0.9),
)

# Synthetic department codes; the practitioners app owns the real catalogue.
DEPARTMENTS: tuple[str, ...] = (
    "internal_medicine",
    "cardiology",
    "respiratory",
    "gastroenterology",
    "endocrinology",
    "neurology",
    "nephrology",
    "general_surgery",
    "orthopedics",
    "urology",
    "obstetrics_gynecology",
    "pediatrics",
    "dermatology",
    "ophthalmology",
    "otolaryngology",
    "stomatology",
    "psychiatry",
    "oncology",
    "rehabilitation",
    "traditional_chinese_medicine",
)

MODE_SHARES: dict[str, float] = {
    ConsultMode.VIDEO: 0.8,
    ConsultMode.TEXT: 0.7,
    ConsultMode.IN_PERSON: 0.6,
    ConsultMode.HOME_VISIT: 0.25,
}


def city_sigma_km(population_m: float) -> float:
    return 4.0 * float(np.sqrt(population_m))


def synthetic_points(
    n: int, *, seed: int, cities: tuple[City, ...] = CITIES
) -> tuple[FloatArray, FloatArray, np.ndarray]:
    """n points (lat, lon in degrees) and the index of the city each was drawn around."""
    rng = np.random.default_rng(seed)
    population = np.array([c.population_m for c in cities])
    city = rng.choice(len(cities), size=n, p=population / population.sum())
    sigma = 4.0 * np.sqrt(population[city])
    sigma = np.where(rng.random(n) < 0.2, 3.0 * sigma, sigma)
    north, east = rng.normal(size=(2, n)) * sigma
    lat0 = np.array([c.lat for c in cities])[city]
    lon0 = np.array([c.lon for c in cities])[city]
    lat = np.clip(lat0 + north / KM_PER_DEGREE_LAT, -89.9, 89.9)
    lon = lon0 + east / (KM_PER_DEGREE_LAT * np.cos(np.radians(lat0)))
    return lat, lon, city


def synthetic_doctors(
    n: int,
    *,
    seed: int,
    verified_share: float = 0.9,
    departments: tuple[str, ...] = DEPARTMENTS,
) -> list[IndexedDoctor]:
    """n doctors around the cities; ids "d000000"...; some unverified, varied modes and ratings."""
    rng = np.random.default_rng(seed)
    lat, lon, _ = synthetic_points(n, seed=seed + 1)
    department = rng.integers(0, len(departments), size=n)
    mode_names = list(MODE_SHARES)
    has_mode = rng.random((n, len(mode_names))) < np.array(list(MODE_SHARES.values()))
    has_mode[~has_mode.any(axis=1), 0] = True
    verified = rng.random(n) < verified_share
    radius = rng.uniform(5.0, 30.0, size=n).round(1)
    rated = rng.random(n) < 0.85
    rating = np.clip(rng.normal(4.5, 0.3, size=n), 1.0, 5.0).round(2)
    count = rng.geometric(1 / 60, size=n)
    speaks_en = rng.random(n) < 0.2
    female = rng.random(n) < 0.5
    return [
        IndexedDoctor(
            doctor_id=f"d{i:06d}",
            lat=float(lat[i]),
            lon=float(lon[i]),
            department=departments[department[i]],
            modes=frozenset(m for m, has in zip(mode_names, has_mode[i], strict=True) if has),
            verified=bool(verified[i]),
            service_radius_km=float(radius[i]),
            rating=float(rating[i]) if rated[i] else None,
            rating_count=int(count[i]) if rated[i] else 0,
            languages=frozenset({"zh", "en"}) if speaks_en[i] else frozenset({"zh"}),
            gender="female" if female[i] else "male",
        )
        for i in range(n)
    ]
