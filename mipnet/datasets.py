"""Offline loaders of the real data sets vendored in ``mipnet/data`` (no loader touches the network).

Every loader returns a :class:`Dataset`: the data as a readable pandas frame (features + target),
the type of each feature, and the recommended input domain for verification.

**Numeric encoding.** Let the frame hold raw features ``f_1 .. f_p``. :meth:`Dataset.X_numeric` maps a
row to the vector ``x`` that a network reads, feature by feature in frame order:

* a continuous, integer or binary feature ``f_j`` gives one coordinate ``x = f_j``;
* a categorical feature with levels ``c_1 .. c_K`` gives the one-hot block
  ``e_k = [f_j = c_k]`` for ``k = 1..K``, named ``"f_j=c_k"``, with ``sum_k e_k = 1``.

**Recommended domain.** :attr:`Dataset.domain` is the :class:`~mipnet.Domain`

    D = { x : l <= x <= u,
              x_i in Z                           for integer, binary and one-hot coordinates,
              x_g in {0,1}^|g|, sum_{i in g} x_i = 1   for each categorical feature's block g }

where ``[l_i, u_i]`` is the feature's known range (pixels, binary flags) or else its minimum and
maximum over the *whole* vendored file (every split), so a train split, a test split and any
subsample share one domain and every row of the file lies in it.

Datasets and the numeric input dimension (the length of ``x``):

==========================  =====  ======  ========  =============================================
name                        rows   inputs  task      notes
==========================  =====  ======  ========  =============================================
compas                       6172      13  classify  ProPublica filter; 13-input variant
adult                       45222      86  classify  ``split="train"|"test"|"all"``
german                       1000      59  classify  target 1 = bad credit
heart                         297      22  classify  Cleveland; 6 rows with missing values dropped
autompg                       392       9  regress   target mpg
breast_cancer                 569      30  classify  scikit-learn's bundled copy
digits                       1797      64  classify  8x8 images, scikit-learn's bundled copy
mnist_subset                 5000     784  classify  500 images per digit
fashion_ankle_boot_vs_bag   14000     784  classify  ``load_fashion_pair("ankle_boot_vs_bag")``
fashion_coat_vs_pullover    14000     784  classify  ``load_fashion_pair("coat_vs_pullover")``
==========================  =====  ======  ========  =============================================
"""

from __future__ import annotations

import functools
import inspect
import json
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any, Callable, Iterable, NamedTuple, Sequence

import numpy as np
import pandas as pd

from .domain import Domain
from .errors import DataError

FEATURE_TYPES = ("continuous", "integer", "binary", "categorical")
TASKS = ("classify", "regress")
ONEHOT_SEP = "="


def _data_file(name: str) -> Any:
    """A readable handle (path-like) of a vendored file."""
    return resources.files("mipnet").joinpath("data").joinpath(name)


# ====================================================================== the Dataset type
@dataclass
class Dataset:
    """A loaded data set: the frame, feature types, categorical levels and the verification domain.

    ``feature_types`` lists the features in frame order (the target excluded); a ``"categorical"``
    feature has its ordered levels in ``categories``; every other feature has its range in
    ``bounds``. ``monotone_increasing`` / ``monotone_decreasing`` name features in which the
    target is declared monotone by the literature or by plain domain knowledge (see each loader).
    """

    name: str
    frame: pd.DataFrame
    target: str
    task: str
    feature_types: dict[str, str]
    categories: dict[str, list[str]] = field(default_factory=dict)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    monotone_increasing: list[str] = field(default_factory=list)
    monotone_decreasing: list[str] = field(default_factory=list)
    description: str = ""
    class_names: list[str] | None = None
    input_shape: tuple[int, ...] | None = None
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise DataError(f"dataset task must be one of {TASKS}, not {self.task!r}")
        if self.target not in self.frame.columns:
            raise DataError(f"target column {self.target!r} is not in the frame")
        for f, t in self.feature_types.items():
            if f not in self.frame.columns:
                raise DataError(f"feature {f!r} is not a column of the frame")
            if t not in FEATURE_TYPES:
                raise DataError(f"feature {f!r} has unknown type {t!r}; types are {FEATURE_TYPES}")
            if t == "categorical" and len(self.categories.get(f, ())) < 2:
                raise DataError(f"categorical feature {f!r} needs at least two levels in `categories`")
            if t != "categorical" and f not in self.bounds:
                raise DataError(f"feature {f!r} has no bounds")
        for f in [*self.monotone_increasing, *self.monotone_decreasing]:
            if self.feature_types.get(f) not in ("continuous", "integer", "binary"):
                raise DataError(f"monotone feature {f!r} must be a numeric feature of the data set")
        if self.input_shape is None:
            self.input_shape = (len(self.numeric_names),)
        self.input_shape = tuple(int(s) for s in self.input_shape)
        if int(np.prod(self.input_shape)) != len(self.numeric_names):
            raise DataError(f"input_shape {self.input_shape} does not hold {len(self.numeric_names)} inputs")

    # ------------------------------------------------------------------ views
    @property
    def features(self) -> list[str]:
        return list(self.feature_types)

    @property
    def X(self) -> pd.DataFrame:
        """The raw features (categoricals as pandas categoricals, not encoded)."""
        return self.frame[self.features]

    @property
    def y(self) -> pd.Series:
        return self.frame[self.target]

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    @property
    def categorical(self) -> dict[str, list[str]]:
        """Each categorical feature -> the names of its one-hot columns in :meth:`X_numeric`."""
        return {f: [f"{f}{ONEHOT_SEP}{c}" for c in self.categories[f]]
                for f, t in self.feature_types.items() if t == "categorical"}

    @property
    def numeric_names(self) -> list[str]:
        """Names of the columns of :meth:`X_numeric` (= ``domain.names``)."""
        groups = self.categorical
        names: list[str] = []
        for f in self.features:
            names.extend(groups.get(f, [f]))
        return names

    @property
    def n_inputs(self) -> int:
        return len(self.numeric_names)

    def X_numeric(self) -> tuple[np.ndarray, list[str]]:
        """The numeric matrix (rows x inputs, float64) and its column names, categoricals one-hot."""
        blocks: list[np.ndarray] = []
        run: list[str] = []

        def flush() -> None:
            if run:
                blocks.append(self.frame[run].to_numpy(dtype=np.float64))
                run.clear()

        for f in self.features:
            if self.feature_types[f] != "categorical":
                run.append(f)
                continue
            flush()
            levels = self.categories[f]
            codes = pd.Categorical(self.frame[f], categories=levels).codes
            if np.any(codes < 0):
                bad = self.frame[f][codes < 0].iloc[0]
                raise DataError(f"feature {f!r} has value {bad!r} outside its levels {levels}")
            blocks.append((codes[:, None] == np.arange(len(levels))[None, :]).astype(np.float64))
        flush()
        X = np.hstack(blocks) if blocks else np.zeros((self.n_rows, 0))
        if not np.all(np.isfinite(X)):
            row = int(np.flatnonzero(~np.all(np.isfinite(X), axis=1))[0])
            raise DataError(f"dataset {self.name!r} has NaN or inf in its features (row {row})")
        return X, self.numeric_names

    def numeric_frame(self) -> pd.DataFrame:
        """:meth:`X_numeric` as a frame, with the target as the last column."""
        X, names = self.X_numeric()
        df = pd.DataFrame(X, columns=names)
        integer = self.domain.integer
        if integer.any():
            cols = [names[i] for i in np.flatnonzero(integer)]
            df[cols] = df[cols].astype(np.int64)
        df[self.target] = self.y.to_numpy()
        return df

    @property
    def domain(self) -> Domain:
        """The recommended verification domain over the :meth:`X_numeric` coordinates (see module doc)."""
        lower: list[float] = []
        upper: list[float] = []
        integer: list[bool] = []
        groups: list[list[int]] = []
        for f in self.features:
            t = self.feature_types[f]
            if t == "categorical":
                k = len(self.categories[f])
                groups.append(list(range(len(lower), len(lower) + k)))
                lower += [0.0] * k
                upper += [1.0] * k
                integer += [True] * k
            else:
                lo, hi = self.bounds[f]
                lower.append(float(lo))
                upper.append(float(hi))
                integer.append(t in ("integer", "binary"))
        return Domain(self.numeric_names, np.array(lower), np.array(upper), np.array(integer, dtype=bool), groups)

    # ------------------------------------------------------------------ subsets
    def subset(self, rows: Sequence[int] | np.ndarray) -> Dataset:
        """The rows at positions ``rows`` (same metadata and domain)."""
        return replace(self, frame=self.frame.iloc[np.asarray(rows)].reset_index(drop=True),
                       feature_types=dict(self.feature_types))

    def sample(self, n: int, random_state: int | None = 0, stratify: bool = True) -> Dataset:
        """``n`` rows drawn without replacement; stratified by class for classification."""
        if not 0 < n <= self.n_rows:
            raise DataError(f"cannot sample {n} rows from {self.n_rows}")
        rng = np.random.default_rng(random_state)
        if n == self.n_rows:
            return self.subset(rng.permutation(n))
        if stratify and self.task == "classify":
            from sklearn.model_selection import train_test_split

            idx, _ = train_test_split(np.arange(self.n_rows), train_size=n, stratify=self.y.to_numpy(),
                                      random_state=int(rng.integers(2**31 - 1)))
            return self.subset(np.sort(idx))
        return self.subset(np.sort(rng.choice(self.n_rows, size=n, replace=False)))

    def train_test_split(self, test_size: float | int = 0.25, random_state: int | None = 0,
                         stratify: bool = True) -> tuple[Dataset, Dataset]:
        """A random split into two data sets (stratified by class for classification)."""
        from sklearn.model_selection import train_test_split

        strat = self.y.to_numpy() if stratify and self.task == "classify" else None
        try:
            tr, te = train_test_split(np.arange(self.n_rows), test_size=test_size, stratify=strat,
                                      random_state=random_state)
        except ValueError as exc:
            raise DataError(f"cannot split dataset {self.name!r}: {exc}") from None
        return self.subset(np.sort(tr)), self.subset(np.sort(te))

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, rows={self.n_rows}, features={len(self.feature_types)}, "
                f"inputs={self.n_inputs}, task={self.task!r}, target={self.target!r})")


# ====================================================================== helpers
def _bounds_of(df: pd.DataFrame, feature_types: dict[str, str],
               known: dict[str, tuple[float, float]] | None = None) -> dict[str, tuple[float, float]]:
    """Known ranges where given, [0, 1] for binary flags, else the data's min and max."""
    known = known or {}
    out: dict[str, tuple[float, float]] = {}
    for f, t in feature_types.items():
        if t == "categorical":
            continue
        if f in known:
            out[f] = (float(known[f][0]), float(known[f][1]))
        elif t == "binary":
            out[f] = (0.0, 1.0)
        else:
            col = df[f].to_numpy(dtype=np.float64)
            out[f] = (float(np.nanmin(col)), float(np.nanmax(col)))
    return out


def _levels(df: pd.DataFrame, cols: Iterable[str]) -> dict[str, list[str]]:
    """The sorted distinct values of each column (missing values ignored)."""
    return {c: sorted(df[c].dropna().astype(str).unique()) for c in cols}


def _as_categorical(df: pd.DataFrame, levels: dict[str, list[str]]) -> dict[str, list[str]]:
    """Turn the columns named in ``levels`` into pandas categoricals with those levels (in place)."""
    for c, lv in levels.items():
        df[c] = pd.Categorical(df[c].astype(str), categories=list(lv))
    return {c: list(lv) for c, lv in levels.items()}


def _check_split(split: str) -> str:
    if split not in ("train", "test", "all"):
        raise DataError(f"split must be 'train', 'test' or 'all', not {split!r}")
    return split


# ====================================================================== COMPAS
@functools.lru_cache(maxsize=None)
def _compas_raw() -> pd.DataFrame:
    df = pd.read_csv(_data_file("compas-scores-two-years.csv.gz"))
    keep = (df["days_b_screening_arrest"].between(-30, 30) & (df["is_recid"] != -1)
            & (df["c_charge_degree"] != "O") & (df["score_text"] != "N/A") & df["score_text"].notna())
    df = df.loc[keep].reset_index(drop=True)
    out = pd.DataFrame({
        "priors_count": df["priors_count"].astype(np.int64),
        "juv_fel_count": df["juv_fel_count"].astype(np.int64),
        "juv_misd_count": df["juv_misd_count"].astype(np.int64),
        "juv_other_count": df["juv_other_count"].astype(np.int64),
        "age": df["age"].astype(np.int64),
        "male": (df["sex"] == "Male").astype(np.int64),
        "race": df["race"].astype(str),
        "felony": (df["c_charge_degree"] == "F").astype(np.int64),
        "two_year_recid": df["two_year_recid"].astype(np.int64),
    })
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
    types = {"priors_count": "integer", "juv_fel_count": "integer", "juv_misd_count": "integer",
             "juv_other_count": "integer", "age": "integer", "male": "binary", "race": "categorical",
             "felony": "binary"}
    cats = _as_categorical(df, _levels(df, ["race"]))
    return Dataset(
        name="compas", frame=df, target="two_year_recid", task="classify", feature_types=types,
        categories=cats, bounds=_bounds_of(df, types),
        monotone_increasing=["priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count"],
        description="ProPublica COMPAS two-year recidivism (ProPublica filter, 13 inputs)",
        class_names=["no_recidivism", "recidivism"],
    )


# ====================================================================== Adult
_ADULT_COLUMNS = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
                  "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week",
                  "native_country", "income"]
_ADULT_CATEGORICAL = ["workclass", "education", "marital_status", "occupation", "relationship", "race",
                      "native_country"]


@functools.lru_cache(maxsize=None)
def _adult_raw() -> pd.DataFrame:
    parts = []
    for fname, split, skip in (("adult.data.gz", "train", 0), ("adult.test.gz", "test", 1)):
        df = pd.read_csv(_data_file(fname), header=None, names=_ADULT_COLUMNS, skipinitialspace=True,
                         na_values="?", skiprows=skip)
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
    types = {"age": "integer", "workclass": "categorical", "fnlwgt": "integer", "education": "categorical",
             "education_num": "integer", "marital_status": "categorical", "occupation": "categorical",
             "relationship": "categorical", "race": "categorical", "male": "binary",
             "capital_gain": "integer", "capital_loss": "integer", "hours_per_week": "integer",
             "native_country": "categorical"}
    if drop_redundant:
        df = df.drop(columns=["fnlwgt", "education"])
        del types["fnlwgt"], types["education"]
        cats.pop("education")
    _as_categorical(df, cats)
    return Dataset(
        name="adult", frame=df, target="income", task="classify", feature_types=types, categories=cats,
        bounds=_bounds_of(full, types),
        monotone_increasing=["education_num", "capital_gain", "hours_per_week"],
        description=f"UCI Adult census income > 50K (split={split})", class_names=["<=50K", ">50K"],
    )


# ====================================================================== German credit
_GERMAN_COLUMNS = ["status", "duration", "credit_history", "purpose", "credit_amount", "savings",
                   "present_employment", "installment_rate", "status_sex", "other_debtors", "present_residence",
                   "property", "age", "installment_plans", "housing", "existing_credits", "job",
                   "people_liable", "telephone", "foreign_worker", "credit"]


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
        name="german", frame=df, target="bad_credit", task="classify", feature_types=types, categories=cats,
        bounds=_bounds_of(df, types), description="UCI Statlog German credit risk (1 = bad credit)",
        class_names=["good", "bad"], value_labels=labels,
    )


# ====================================================================== Heart (Cleveland)
_HEART_RENAME = {"age": "age", "gender": "male", "chest pain": "chest_pain", "rest SBP": "rest_sbp",
                 "cholesterol": "cholesterol", "fasting blood sugar > 120": "fasting_blood_sugar",
                 "rest ECG": "rest_ecg", "max HR": "max_hr", "exerc ind ang": "exercise_angina",
                 "ST by exercise": "st_depression", "slope peak exc ST": "st_slope",
                 "major vessels colored": "major_vessels", "thal": "thal", "diameter narrowing": "disease"}
_HEART_TYPES = {"age": "integer", "male": "binary", "chest_pain": "categorical", "rest_sbp": "integer",
                "cholesterol": "integer", "fasting_blood_sugar": "binary", "rest_ecg": "categorical",
                "max_hr": "integer", "exercise_angina": "binary", "st_depression": "continuous",
                "st_slope": "categorical", "major_vessels": "integer", "thal": "categorical"}


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
        name="heart", frame=df, target="disease", task="classify", feature_types=dict(_HEART_TYPES),
        categories=cats, bounds=bounds, monotone_increasing=["rest_sbp", "cholesterol"],
        description="UCI Cleveland heart disease (> 50% diameter narrowing)",
        class_names=["no_disease", "disease"],
    )


# ====================================================================== Auto-MPG
@functools.lru_cache(maxsize=None)
def _autompg_raw() -> pd.DataFrame:
    df = pd.read_csv(_data_file("autompg.csv.gz"), header=None,
                     names=["cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year",
                            "origin", "car_name", "mpg"])
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
    types = {"cylinders": "integer", "displacement": "continuous", "horsepower": "continuous",
             "weight": "continuous", "acceleration": "continuous", "model_year": "integer", "origin": "categorical"}
    cats = _as_categorical(df, {"origin": ["usa", "europe", "japan"]})
    return Dataset(
        name="autompg", frame=df, target="mpg", task="regress", feature_types=types, categories=cats,
        bounds=_bounds_of(df, types), monotone_decreasing=["weight", "displacement", "horsepower"],
        description="UCI Auto-MPG fuel consumption (miles per gallon)",
    )


# ====================================================================== scikit-learn bundled sets
@functools.lru_cache(maxsize=None)
def _sklearn_raw(which: str) -> tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]:
    from sklearn import datasets as skd

    bunch = {"breast_cancer": skd.load_breast_cancer, "digits": skd.load_digits}[which]()
    names = [str(n).replace(" ", "_") for n in bunch.feature_names]
    df = pd.DataFrame(np.asarray(bunch.data, dtype=np.float64), columns=names)
    y = np.asarray(bunch.target, dtype=np.int64)
    y.setflags(write=False)
    return df, y, tuple(str(t) for t in bunch.target_names)


def load_breast_cancer() -> Dataset:
    """Wisconsin diagnostic breast cancer (scikit-learn's bundled copy): 569 rows, 30 continuous inputs.

    Target ``diagnosis`` as in scikit-learn: 0 = malignant, 1 = benign.
    """
    X, y, classes = _sklearn_raw("breast_cancer")
    df = X.copy()
    df["diagnosis"] = y
    types = dict.fromkeys(X.columns, "continuous")
    return Dataset(
        name="breast_cancer", frame=df, target="diagnosis", task="classify", feature_types=types,
        bounds=_bounds_of(df, types), description="Wisconsin diagnostic breast cancer (scikit-learn)",
        class_names=list(classes),
    )


def load_digits(scale: bool = False) -> Dataset:
    """8x8 hand-written digits (scikit-learn's bundled copy): 1797 rows, 64 pixel inputs, 10 classes.

    Pixels are integers in [0, 16], or continuous in [0, 1] with ``scale=True``; ``input_shape``
    is (1, 8, 8).
    """
    X, y, classes = _sklearn_raw("digits")
    df = X / 16.0 if scale else X.copy()
    df["digit"] = y
    t = "continuous" if scale else "integer"
    types = {c: t for c in X.columns}
    hi = 1.0 if scale else 16.0
    return Dataset(
        name="digits", frame=df, target="digit", task="classify", feature_types=types,
        bounds={c: (0.0, hi) for c in X.columns}, description="8x8 hand-written digits (scikit-learn)",
        class_names=list(classes), input_shape=(1, 8, 8),
    )


# ====================================================================== images: MNIST, Fashion-MNIST
_PIXELS = [f"pixel{i}" for i in range(784)]


@functools.lru_cache(maxsize=None)
def _npz(name: str) -> dict[str, np.ndarray]:
    with _data_file(name).open("rb") as fh, np.load(fh) as z:
        arrays = {k: z[k] for k in z.files}
    for a in arrays.values():
        a.setflags(write=False)
    return arrays


def _image_dataset(name: str, X: np.ndarray, y: np.ndarray, target: str, class_names: list[str],
                   scale: bool, description: str) -> Dataset:
    data = X.astype(np.float64) / 255.0 if scale else X.astype(np.int64)
    df = pd.DataFrame(data, columns=_PIXELS)
    df[target] = y.astype(np.int64)
    t = "continuous" if scale else "integer"
    hi = 1.0 if scale else 255.0
    return Dataset(
        name=name, frame=df, target=target, task="classify", feature_types=dict.fromkeys(_PIXELS, t),
        bounds=dict.fromkeys(_PIXELS, (0.0, hi)), description=description, class_names=class_names,
        input_shape=(1, 28, 28),
    )


def load_mnist_subset(scale: bool = True) -> Dataset:
    """A 5000-image MNIST subset (500 per digit): 784 pixels, row-major 28x28, ``input_shape`` (1, 28, 28).

    Pixels in [0, 1] (``scale=True``) or integers in [0, 255]; target ``digit``.
    """
    z = _npz("mnist_5k.npz")
    return _image_dataset("mnist_subset", z["X"], z["y"], "digit", [str(d) for d in range(10)], scale,
                          "MNIST subset, 500 images per digit")


_FASHION_LABELS = {0: "t_shirt", 1: "trouser", 2: "pullover", 3: "dress", 4: "coat", 5: "sandal", 6: "shirt",
                   7: "sneaker", 8: "bag", 9: "ankle_boot"}
FASHION_PAIRS: dict[str, tuple[int, int]] = {"ankle_boot_vs_bag": (9, 8), "coat_vs_pullover": (4, 2)}


def load_fashion_pair(pair: str = "ankle_boot_vs_bag", split: str = "all", scale: bool = True) -> Dataset:
    """Two Fashion-MNIST classes as a binary task: ``"ankle_boot_vs_bag"`` or ``"coat_vs_pullover"``.

    7000 images per class: 6000 from the official training file and 1000 from the official test
    file; ``split`` picks ``"train"`` (12000 rows), ``"test"`` (2000) or ``"all"`` (14000). Target
    ``label`` = 1 for the first-named class (ankle boot, coat), 0 for the second (bag, pullover).
    Pixels in [0, 1] (``scale=True``) or integers in [0, 255]; ``input_shape`` (1, 28, 28).
    """
    if pair not in FASHION_PAIRS:
        raise DataError(f"unknown Fashion-MNIST pair {pair!r}; pairs are: {', '.join(FASHION_PAIRS)}")
    _check_split(split)
    pos, neg = FASHION_PAIRS[pair]
    z = _npz("fashion_mnist_2489.npz")
    keep = np.isin(z["y"], (pos, neg))
    if split != "all":
        keep &= z["official_test"] == (1 if split == "test" else 0)
    y = (z["y"][keep] == pos).astype(np.int64)
    return _image_dataset(f"fashion_{pair}", z["X"][keep], y, "label", [_FASHION_LABELS[neg], _FASHION_LABELS[pos]],
                          scale, f"Fashion-MNIST {_FASHION_LABELS[pos]} (1) vs {_FASHION_LABELS[neg]} (0), "
                          f"split={split}")


# ====================================================================== registry
class DatasetInfo(NamedTuple):
    """One row of :func:`available`: ``features`` counts numeric inputs (categoricals one-hot)."""

    name: str
    description: str
    rows: int
    features: int
    task: str


@dataclass(frozen=True)
class _Entry:
    loader: Callable[..., Dataset]
    fixed: dict[str, Any]
    info: DatasetInfo


def _entry(name: str, loader: Callable[..., Dataset], description: str, rows: int, features: int, task: str,
           **fixed: Any) -> tuple[str, _Entry]:
    return name, _Entry(loader, fixed, DatasetInfo(name, description, rows, features, task))


_REGISTRY: dict[str, _Entry] = dict([
    _entry("compas", load_compas, "ProPublica COMPAS two-year recidivism", 6172, 13, "classify"),
    _entry("adult", load_adult, "UCI Adult census income > 50K (train + test)", 45222, 86, "classify"),
    _entry("german", load_german, "UCI Statlog German credit risk", 1000, 59, "classify"),
    _entry("heart", load_heart, "UCI Cleveland heart disease", 297, 22, "classify"),
    _entry("autompg", load_autompg, "UCI Auto-MPG fuel consumption", 392, 9, "regress"),
    _entry("breast_cancer", load_breast_cancer, "Wisconsin diagnostic breast cancer", 569, 30, "classify"),
    _entry("digits", load_digits, "8x8 hand-written digits", 1797, 64, "classify"),
    _entry("mnist_subset", load_mnist_subset, "MNIST, 500 images per digit", 5000, 784, "classify"),
    _entry("fashion_ankle_boot_vs_bag", load_fashion_pair, "Fashion-MNIST ankle boot vs bag", 14000, 784,
           "classify", pair="ankle_boot_vs_bag"),
    _entry("fashion_coat_vs_pullover", load_fashion_pair, "Fashion-MNIST coat vs pullover", 14000, 784,
           "classify", pair="coat_vs_pullover"),
])
_ALIASES = {"mnist": "mnist_subset", "auto_mpg": "autompg", "german_credit": "german", "heart_disease": "heart",
            "cleveland": "heart", "ankle_boot_vs_bag": "fashion_ankle_boot_vs_bag",
            "coat_vs_pullover": "fashion_coat_vs_pullover"}


def available() -> list[DatasetInfo]:
    """``(name, description, rows, features, task)`` of every data set with its default options."""
    return [e.info for e in _REGISTRY.values()]


def canonical_name(name: str) -> str:
    """The registry name of ``name`` (case, dashes and the aliases forgiven); DataError if unknown."""
    key = str(name).strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in _REGISTRY:
        raise DataError(f"unknown dataset {name!r}; available: {', '.join(_REGISTRY)}")
    return key


def load(name: str, **options: Any) -> Dataset:
    """Load a data set by name (see :func:`available`) with its loader's keyword options."""
    entry = _REGISTRY[canonical_name(name)]
    params = inspect.signature(entry.loader).parameters
    allowed = [p for p in params if p not in entry.fixed]
    bad = [k for k in options if k not in allowed]
    if bad:
        opts = ", ".join(allowed) if allowed else "none"
        raise DataError(f"dataset {entry.info.name!r} has no option {bad[0]!r} (options: {opts})")
    return entry.loader(**entry.fixed, **options)


__all__ = ["Dataset", "DatasetInfo", "available", "load", "canonical_name", "load_compas", "load_adult",
           "load_german", "load_heart", "load_autompg", "load_breast_cancer", "load_digits", "load_mnist_subset",
           "load_fashion_pair", "FASHION_PAIRS"]
