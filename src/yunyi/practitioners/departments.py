"""The standard department catalogue: doctors belong to one, triage answers with them, matching
filters by them.

Codes are stable English slugs; `nhc_code` cross-references the national catalogue of clinical
subjects (医疗机构诊疗科目名录, National Health Commission) for deployments that map to it.
"""

from __future__ import annotations

from typing import Final, TypedDict


class Department(TypedDict):
    en: str
    zh: str
    nhc_code: str


DEPARTMENTS: Final[dict[str, Department]] = {
    "emergency": {"en": "Emergency medicine", "zh": "急诊医学科", "nhc_code": "20"},
    "general_practice": {"en": "General practice", "zh": "全科医疗科", "nhc_code": "02"},
    "general_internal_medicine": {
        "en": "General internal medicine",
        "zh": "内科",
        "nhc_code": "03",
    },
    "respiratory": {"en": "Respiratory medicine", "zh": "呼吸内科", "nhc_code": "03.01"},
    "gastroenterology": {"en": "Gastroenterology", "zh": "消化内科", "nhc_code": "03.02"},
    "neurology": {"en": "Neurology", "zh": "神经内科", "nhc_code": "03.03"},
    "cardiology": {"en": "Cardiology", "zh": "心血管内科", "nhc_code": "03.04"},
    "endocrinology": {"en": "Endocrinology", "zh": "内分泌科", "nhc_code": "03.07"},
    "general_surgery": {"en": "General surgery", "zh": "普通外科", "nhc_code": "04.01"},
    "orthopaedics": {"en": "Orthopaedics", "zh": "骨科", "nhc_code": "04.03"},
    "urology": {"en": "Urology", "zh": "泌尿外科", "nhc_code": "04.04"},
    "obstetrics_gynaecology": {
        "en": "Obstetrics and gynaecology",
        "zh": "妇产科",
        "nhc_code": "05",
    },
    "paediatrics": {"en": "Paediatrics", "zh": "儿科", "nhc_code": "07"},
    "ophthalmology": {"en": "Ophthalmology", "zh": "眼科", "nhc_code": "10"},
    "otorhinolaryngology": {"en": "Ear, nose and throat", "zh": "耳鼻咽喉科", "nhc_code": "11"},
    "stomatology": {"en": "Stomatology (dentistry)", "zh": "口腔科", "nhc_code": "12"},
    "dermatology": {"en": "Dermatology", "zh": "皮肤科", "nhc_code": "13"},
    "psychiatry": {"en": "Psychiatry", "zh": "精神科", "nhc_code": "15"},
    "infectious_diseases": {"en": "Infectious diseases", "zh": "传染科", "nhc_code": "16"},
}
