"""The vendored tabular data sets: COMPAS, Adult, German credit, Heart (Cleveland) and Auto-MPG."""

from __future__ import annotations

import functools
import json
from typing import Any

import numpy as np
import pandas as pd

from .dataset import Dataset
from .helpers import _as_categorical, _bounds_of, _check_split, _data_file, _levels


# ====================================================================== COMPAS
@functools.lru_cache(maxsize=None)
def _compas_raw() -> pd.DataFrame:
    df = pd.read_csv(_data_file("compas-scores-two-years.csv.gz"))
    keep = (
        df["days_b_screening_arrest"].between(-30, 30)
        & (df["is_recid"] != -1)
        & (df["c_charge_degree"] != "O")
        & (df["score_text"] != "N/A")
        & df["score_text"].notna()
    )
    df = df.loc[keep].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "priors_count": df["priors_count"].astype(np.int64),
            "juv_fel_count": df["juv_fel_count"].astype(np.int64),
            "juv_misd_count": df["juv_misd_count"].astype(np.int64),
            "juv_other_count": df["juv_other_count"].astype(np.int64),
            "age": df["age"].astype(np.int64),
            "male": (df["sex"] == "Male").astype(np.int64),
            "race": df["race"].astype(str),
            "felony": (df["c_charge_degree"] == "F").astype(np.int64),
            "two_year_recid": df["two_year_recid"].astype(np.int64),
        }
    )
    return out


def load_compas() -> Dataset:
    """ProPublica COMPAS two-year recidivism, 6172 rows, the 13-input variant.

    Rows: ProPublica's filter ``-30 <= days_b_screening_arrest <= 30``, ``is_recid != -1``,
    ``c_charge_degree != 'O'``, ``score_text != 'N/A'``. Target ``two_year_recid`` (1 = re-offended).
    Inputs (13): the four counts ``priors_count, juv_fel_count, juv_misd_count, juv_other_count``
    (declared monotone increasing, as in "Certified Monotonic Neural Networks", Liu et al. 2020),
    ``age``, ``male`` (1 = male), ``race`` one-hot over its 6 levels, ``felony`` (1 = charge degree F,
    0 = misdemeanour).
    """
    df = _compas_raw().copy()
    types = {
        "priors_count": "integer",
        "juv_fel_count": "integer",
        "juv_misd_count": "integer",
        "juv_other_count": "integer",
        "age": "integer",
        "male": "binary",
        "race": "categorical",
        "felony": "binary",
    }
    cats = _as_categorical(df, _levels(df, ["race"]))
    return Dataset(
        name="compas",
        frame=df,
        target="two_year_recid",
        task="classify",
        feature_types=types,
        categories=cats,
        bounds=_bounds_of(df, types),
        monotone_increasing=["priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count"],
        description="ProPublica COMPAS two-year recidivism (ProPublica filter, 13 inputs)",
        class_names=["no_recidivism", "recidivism"],
    )


# ====================================================================== Adult
_ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "income",
]
_ADULT_CATEGORICAL = [
    "workclass",
    "education",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "native_country",
]


@functools.lru_cache(maxsize=None)
def _adult_raw() -> pd.DataFrame:
    parts = []
    for fname, split, skip in (("adult.data.gz", "train", 0), ("adult.test.gz", "test", 1)):
        df = pd.read_csv(
            _data_file(fname), header=None, names=_ADULT_COLUMNS, skipinitialspace=True, na_values="?", skiprows=skip
        )
        df = df.dropna().reset_index(drop=True)
        df["split"] = split
        parts.append(df)
    df = pd.concat(parts, ignore_index=True)
    income = df["income"].astype(str).str.rstrip(".")
    out = pd.DataFrame({c: df[c] for c in _ADULT_COLUMNS[:-1] if c != "sex"})
    for c in ("age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"):
        out[c] = out[c].astype(np.int64)
    for c in _ADULT_CATEGORICAL:
        out[c] = out[c].astype(str)
    out.insert(out.columns.get_loc("capital_gain"), "male", (df["sex"] == "Male").astype(np.int64))
    out["income"] = (income == ">50K").astype(np.int64)
    out["split"] = df["split"]
    return out


def load_adult(split: str = "all", drop_redundant: bool = True) -> Dataset:
    """UCI Adult census income: target ``income`` = 1 if income > 50K.

    The official train (adult.data) and test (adult.test) files without the rows holding missing
    values (30162 + 15060 = 45222 rows); ``split`` picks one of them or ``"all"``. The test file's
    labels lose their trailing ``'.'``. ``drop_redundant`` drops ``fnlwgt`` (a census sampling
    weight, not a property of the person) and ``education`` (a one-to-one relabelling of
    ``education_num``), leaving 86 inputs (103 otherwise). ``income`` is taken as
    monotone increasing in ``education_num``, ``capital_gain`` and ``hours_per_week`` (domain
    knowledge: more schooling, capital gains or hours worked never lower the odds of > 50K).
    """
    _check_split(split)
    full = _adult_raw()
    cats = _levels(full, _ADULT_CATEGORICAL)  # levels from every split
    df = full if split == "all" else full[full["split"] == split]
    df = df.drop(columns="split").reset_index(drop=True)
    types = {
        "age": "integer",
        "workclass": "categorical",
        "fnlwgt": "integer",
        "education": "categorical",
        "education_num": "integer",
        "marital_status": "categorical",
        "occupation": "categorical",
        "relationship": "categorical",
        "race": "categorical",
        "male": "binary",
        "capital_gain": "integer",
        "capital_loss": "integer",
        "hours_per_week": "integer",
        "native_country": "categorical",
    }
    if drop_redundant:
        df = df.drop(columns=["fnlwgt", "education"])
        del types["fnlwgt"], types["education"]
        cats.pop("education")
    _as_categorical(df, cats)
    return Dataset(
        name="adult",
        frame=df,
        target="income",
        task="classify",
        feature_types=types,
        categories=cats,
        bounds=_bounds_of(full, types),
        monotone_increasing=["education_num", "capital_gain", "hours_per_week"],
        description=f"UCI Adult census income > 50K (split={split})",
        class_names=["<=50K", ">50K"],
    )


# ====================================================================== German credit
_GERMAN_COLUMNS = [
    "status",
    "duration",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings",
    "present_employment",
    "installment_rate",
    "status_sex",
    "other_debtors",
    "present_residence",
    "property",
    "age",
    "installment_plans",
    "housing",
    "existing_credits",
    "job",
    "people_liable",
    "telephone",
    "foreign_worker",
    "credit",
]


@functools.lru_cache(maxsize=None)
def _german_raw() -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    df = pd.read_csv(_data_file("german.data.gz"), sep=" ", header=None, names=_GERMAN_COLUMNS)
    maps = json.loads(_data_file("german.values_maps.json").read_text(encoding="utf-8"))
    out = df.drop(columns=["telephone", "foreign_worker", "credit"]).copy()
    for c in out.columns:
        out[c] = out[c].astype(str) if c in maps else out[c].astype(np.int64)
    out["telephone"] = (df["telephone"] == "A192").astype(np.int64)
    out["foreign_worker"] = (df["foreign_worker"] == "A201").astype(np.int64)
    out["bad_credit"] = (df["credit"] == 2).astype(np.int64)
    return out, maps


def load_german() -> Dataset:
    """UCI Statlog German credit, 1000 rows; target ``bad_credit`` (0 = good, 1 = bad; 700 / 300).

    The 11 multi-level categorical attributes keep their UCI A-codes (``status=A11`` ...); ``value_labels``
    maps each code to its UCI description. ``telephone`` (1 = yes) and ``foreign_worker`` (1 = yes)
    are binary; the 7 numeric attributes are integers. 59 inputs. No monotonicity is declared.
    """
    raw, maps = _german_raw()
    df = raw.copy()
    types = {c: ("categorical" if c in maps else "integer") for c in _GERMAN_COLUMNS[:-3]}
    types["telephone"] = "binary"
    types["foreign_worker"] = "binary"
    df = df[[*types, "bad_credit"]]
    cat_cols = [c for c, t in types.items() if t == "categorical"]
    cats = _as_categorical(df, _levels(df, cat_cols))
    labels = {c: {str(k): str(v) for k, v in maps[c].items()} for c in cat_cols}
    return Dataset(
        name="german",
        frame=df,
        target="bad_credit",
        task="classify",
        feature_types=types,
        categories=cats,
        bounds=_bounds_of(df, types),
        description="UCI Statlog German credit risk (1 = bad credit)",
        class_names=["good", "bad"],
        value_labels=labels,
    )


# ====================================================================== Heart (Cleveland)
_HEART_RENAME = {
    "age": "age",
    "gender": "male",
    "chest pain": "chest_pain",
    "rest SBP": "rest_sbp",
    "cholesterol": "cholesterol",
    "fasting blood sugar > 120": "fasting_blood_sugar",
    "rest ECG": "rest_ecg",
    "max HR": "max_hr",
    "exerc ind ang": "exercise_angina",
    "ST by exercise": "st_depression",
    "slope peak exc ST": "st_slope",
    "major vessels colored": "major_vessels",
    "thal": "thal",
    "diameter narrowing": "disease",
}
_HEART_TYPES = {
    "age": "integer",
    "male": "binary",
    "chest_pain": "categorical",
    "rest_sbp": "integer",
    "cholesterol": "integer",
    "fasting_blood_sugar": "binary",
    "rest_ecg": "categorical",
    "max_hr": "integer",
    "exercise_angina": "binary",
    "st_depression": "continuous",
    "st_slope": "categorical",
    "major_vessels": "integer",
    "thal": "categorical",
}


@functools.lru_cache(maxsize=None)
def _heart_raw() -> pd.DataFrame:
    df = pd.read_csv(_data_file("heart_disease.tab.gz"), sep="\t", skiprows=[1, 2], na_values="?")
    df = df.rename(columns=_HEART_RENAME)[list(_HEART_RENAME.values())]
    df["male"] = (df["male"] == "male").astype(np.int64)
    return df


def load_heart(dropna: bool = True) -> Dataset:
    """UCI Cleveland heart disease (303 rows; 297 without the 6 rows that miss ``major_vessels``/``thal``).

    Target ``disease`` = 1 for > 50% diameter narrowing (original labels). With ``dropna=False`` the
    missing values are filled with the most frequent value instead. The 13 attributes give 22
    inputs (``chest_pain``, ``rest_ecg``, ``st_slope``, ``thal`` one-hot). ``disease`` is declared
    monotone increasing in ``rest_sbp`` (resting blood pressure) and ``cholesterol``, as in the
    monotonic-network literature (COMET, Sivaraman et al. 2020; Liu et al. 2020).
    """
    df = _heart_raw().copy()
    if dropna:
        df = df.dropna().reset_index(drop=True)
    else:
        for c in df.columns[df.isna().any()]:
            df[c] = df[c].fillna(df[c].mode().iloc[0])
    df["major_vessels"] = df["major_vessels"].astype(np.int64)
    df["disease"] = df["disease"].astype(np.int64)
    full = _heart_raw()
    cats = _as_categorical(df, _levels(full, [c for c, t in _HEART_TYPES.items() if t == "categorical"]))
    bounds = _bounds_of(full, _HEART_TYPES)
    return Dataset(
        name="heart",
        frame=df,
        target="disease",
        task="classify",
        feature_types=dict(_HEART_TYPES),
        categories=cats,
        bounds=bounds,
        monotone_increasing=["rest_sbp", "cholesterol"],
        description="UCI Cleveland heart disease (> 50% diameter narrowing)",
        class_names=["no_disease", "disease"],
    )


# ====================================================================== Auto-MPG
@functools.lru_cache(maxsize=None)
def _autompg_raw() -> pd.DataFrame:
    df = pd.read_csv(
        _data_file("autompg.csv.gz"),
        header=None,
        names=[
            "cylinders",
            "displacement",
            "horsepower",
            "weight",
            "acceleration",
            "model_year",
            "origin",
            "car_name",
            "mpg",
        ],
    )
    df = df.drop(columns="car_name")
    df["origin"] = df["origin"].map({1: "usa", 2: "europe", 3: "japan"})
    for c in ("cylinders", "model_year"):
        df[c] = df[c].astype(np.int64)
    for c in ("displacement", "horsepower", "weight", "acceleration", "mpg"):
        df[c] = df[c].astype(np.float64)
    return df


def load_autompg() -> Dataset:
    """UCI Auto-MPG, 392 rows (the 6 cars without horsepower removed); regression target ``mpg``.

    ``origin`` is categorical (usa / europe / japan, one-hot), ``car_name`` is dropped: 9 inputs.
    ``mpg`` is declared monotone decreasing in ``weight``, ``displacement`` and ``horsepower``
    (Liu et al. 2020; Sivaraman et al. 2020).
    """
    df = _autompg_raw().copy()
    types = {
        "cylinders": "integer",
        "displacement": "continuous",
        "horsepower": "continuous",
        "weight": "continuous",
        "acceleration": "continuous",
        "model_year": "integer",
        "origin": "categorical",
    }
    cats = _as_categorical(df, {"origin": ["usa", "europe", "japan"]})
    return Dataset(
        name="autompg",
        frame=df,
        target="mpg",
        task="regress",
        feature_types=types,
        categories=cats,
        bounds=_bounds_of(df, types),
        monotone_decreasing=["weight", "displacement", "horsepower"],
        description="UCI Auto-MPG fuel consumption (miles per gallon)",
    )
