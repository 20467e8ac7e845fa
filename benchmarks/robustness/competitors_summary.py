"""The pure parts of ``benchmarks/robustness_competitors.py``: per-query table -> verdict checks, summary, targets.

The run table has one row per (model, eps, image, tool) with ``verdict`` in holds / violated / unknown / error and
``seconds``; tools are ``mipnet``, ``gurobi_ml``, ``crown`` and ``alpha_crown`` (a bound method says "holds" when
every margin's lower bound is > 0, else "unknown": it never refutes), and optionally ``mipnet_before`` (an earlier
mipnet on the same queries, same run). Per model and eps the summary gives verdict
counts and median seconds per tool, and the per-query ratios

    r_G(q) = t_mipnet(q) / t_gurobi_ml(q)   over the robust queries (both say "holds") and over the hard ones
                                            among them (no bound method alone proves them: :func:`hard_easy`),
    r_C(q) = t_mipnet(q) / t_crown(q)       over the queries CROWN proves (likewise for alpha-CROWN),

(and r_C for ``mipnet_before``, and t_mipnet / t_mipnet_before where CROWN proves), with the issue's targets:
median r_G <= 0.5 on the hard robust queries, max r_C <= 2, every mipnet query decided within 30 s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

TOOLS = ("mipnet", "gurobi_ml", "crown", "alpha_crown", "mipnet_before")
DECIDED = ("holds", "violated")
KEY = ["model", "eps", "image"]
TARGET_GUROBI = 0.5
TARGET_CROWN = 2.0
TARGET_SECONDS = 30.0


def lirpa_python(path: str | None) -> tuple[str | None, str]:
    """(the interpreter of auto_LiRPA's venv, "") or (None, why the CROWN columns are skipped)."""
    if not path:
        return None, "no auto_LiRPA interpreter given (--lirpa-python)"
    if not Path(path).is_file():
        return None, f"auto_LiRPA's venv interpreter {path} does not exist (see benchmarks/robustness/setup_lirpa.sh)"
    return path, ""


def wide(df: pd.DataFrame) -> pd.DataFrame:
    """One row per query: ``verdict_<tool>`` and ``seconds_<tool>`` for each tool present."""
    v = df.pivot_table(index=KEY, columns="tool", values="verdict", aggfunc="first")
    s = df.pivot_table(index=KEY, columns="tool", values="seconds", aggfunc="first")
    v.columns = [f"verdict_{t}" for t in v.columns]
    s.columns = [f"seconds_{t}" for t in s.columns]
    out = v.join(s)
    if "detail" in df:  # mipnet's detail is the stage that decided (``RobustnessResult.prover``)
        p = df[df.tool == "mipnet"].set_index(KEY)["detail"].rename("prover_mipnet")
        out = out.join(p)
    return out.reset_index()


def disagreements(df: pd.DataFrame) -> pd.DataFrame:
    """The queries where two tools decide differently (one "holds", another "violated")."""
    w = wide(df)
    cols = [c for c in w.columns if c.startswith("verdict_")]
    if w.empty or not cols:
        return w.iloc[0:0]
    bad = w[cols].apply(lambda r: {v for v in r if v in DECIDED} == set(DECIDED), axis=1)
    return w[bad.astype(bool)]


def _ratios(w: pd.DataFrame, other: str, mask: pd.Series, num: str = "mipnet") -> np.ndarray:
    if f"seconds_{other}" not in w or f"seconds_{num}" not in w:
        return np.array([])
    sel = w[mask]
    return (sel[f"seconds_{num}"] / sel[f"seconds_{other}"]).to_numpy(dtype=np.float64)


def _is(w: pd.DataFrame, tool: str, verdict: str) -> pd.Series:
    col = f"verdict_{tool}"
    return w[col] == verdict if col in w else pd.Series(False, index=w.index)


def hard_easy(w: pd.DataFrame) -> pd.Series:
    """The queries a bound method alone proves: CROWN or alpha-CROWN where they ran, else mipnet's own bound stage.

    The other robust queries are the *hard* ones (they need a complete method: a MILP or a search)."""
    if "verdict_crown" in w or "verdict_alpha_crown" in w:
        return _is(w, "crown", "holds") | _is(w, "alpha_crown", "holds")
    if "prover_mipnet" in w:
        return w["prover_mipnet"].isin(["bounds", "crown", "alpha-crown"])
    return pd.Series(False, index=w.index)


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Per (model, eps): counts h/v/u/e and median seconds per tool, ratios against Gurobi ML and CROWN, targets."""
    rows = []
    for (model, eps), g in df.groupby(["model", "eps"], sort=False):
        w = wide(g)
        row: dict[str, object] = {"model": model, "eps": eps, "queries": len(w)}
        for t in TOOLS:
            gt = g[g.tool == t]
            if gt.empty:
                continue
            row[f"{t}_hvue"] = "/".join(str(int((gt.verdict == v).sum())) for v in (*DECIDED, "unknown", "error"))
            row[f"{t}_median_s"] = float(gt.seconds.median())
        robust = _is(w, "mipnet", "holds") & _is(w, "gurobi_ml", "holds")
        rg = _ratios(w, "gurobi_ml", robust)
        row["robust_queries"] = int(robust.sum())
        row["ratio_gurobi_median"] = float(np.median(rg)) if rg.size else np.nan
        row["ratio_gurobi_min"] = float(rg.min()) if rg.size else np.nan
        row["ratio_gurobi_max"] = float(rg.max()) if rg.size else np.nan
        hard = robust & ~hard_easy(w)
        rh = _ratios(w, "gurobi_ml", hard)
        row["hard_robust_queries"] = int(hard.sum())
        row["ratio_gurobi_hard_median"] = float(np.median(rh)) if rh.size else np.nan
        row["ratio_gurobi_hard_min"] = float(rh.min()) if rh.size else np.nan
        row["ratio_gurobi_hard_max"] = float(rh.max()) if rh.size else np.nan
        both = _is(w, "mipnet", "holds") | _is(w, "mipnet", "violated")
        both &= _is(w, "gurobi_ml", "holds") | _is(w, "gurobi_ml", "violated")
        ra = _ratios(w, "gurobi_ml", both)
        row["ratio_gurobi_all_median"] = float(np.median(ra)) if ra.size else np.nan
        for t in ("crown", "alpha_crown"):
            proved = _is(w, t, "holds")
            rc = _ratios(w, t, proved)
            row[f"{t}_proves"] = int(proved.sum())
            row[f"ratio_{t}_median"] = float(np.median(rc)) if rc.size else np.nan
            row[f"ratio_{t}_max"] = float(rc.max()) if rc.size else np.nan
            row[f"{t}_over_2x"] = int((rc > TARGET_CROWN).sum())
        if "seconds_mipnet_before" in w:
            proved = _is(w, "crown", "holds")
            rb = _ratios(w, "crown", proved, num="mipnet_before")
            row["ratio_before_crown_median"] = float(np.median(rb)) if rb.size else np.nan
            row["ratio_before_crown_max"] = float(rb.max()) if rb.size else np.nan
            rn = _ratios(w, "mipnet_before", proved)
            row["ratio_new_before_crown_median"] = float(np.median(rn)) if rn.size else np.nan
            every = _is(w, "mipnet", "holds") | _is(w, "mipnet", "violated")
            ra = _ratios(w, "mipnet_before", every)
            row["ratio_new_before_median"] = float(np.median(ra)) if ra.size else np.nan
        if "seconds_mipnet" in w:
            decided = _is(w, "mipnet", "holds") | _is(w, "mipnet", "violated")
            row["mipnet_decided_30s"] = int((decided & (w["seconds_mipnet"] <= TARGET_SECONDS)).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _f(v: object, digits: int = 2) -> str:
    return "-" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{digits}f}"


def target_lines(s: pd.DataFrame, crown_ran: bool) -> list[str]:
    """One line per target and (model, eps): "reached" or "not reached" with the figure."""
    out = []
    for _, r in s.iterrows():
        tag = f"{r.model} eps {r.eps:g}"
        if not r.get("hard_robust_queries", 0):
            out.append(f"- {tag}: mipnet / Gurobi ML: no hard robust query (no figure)")
        else:
            med = float(r.ratio_gurobi_hard_median)
            ok = "reached" if med <= TARGET_GUROBI else "**not reached**"
            out.append(
                f"- {tag}: median mipnet / Gurobi ML on {r.hard_robust_queries} hard robust queries = {med:.2f} "
                f"(target <= {TARGET_GUROBI}): {ok}"
            )
        if crown_ran:
            n = int(r.get("crown_proves", 0))
            if n == 0:
                out.append(f"- {tag}: CROWN proves no query (the 2x target is void here)")
            else:
                mx = float(r.ratio_crown_max)
                ok = "reached" if mx <= TARGET_CROWN else f"**not reached** ({int(r.crown_over_2x)} of {n} over 2x)"
                out.append(f"- {tag}: max mipnet / CROWN on {n} queries CROWN proves = {mx:.2f} (target <= 2): {ok}")
        if crown_ran and int(r.get("crown_proves", 0)) and not pd.isna(r.get("ratio_before_crown_max", np.nan)):
            out.append(
                f"- {tag}: mipnet before (same run): max / CROWN = {float(r.ratio_before_crown_max):.2f}, median "
                f"{float(r.ratio_before_crown_median):.2f}; new / before where CROWN proves: median "
                f"{float(r.ratio_new_before_crown_median):.3f}"
            )
        if "mipnet_decided_30s" in r:
            q = int(r.queries)
            d = int(r.mipnet_decided_30s)
            ok = "reached" if d == q else "**not reached**"
            out.append(f"- {tag}: mipnet decided within 30 s: {d} of {q}: {ok}")
    return out


def _hu(r: pd.Series, tool: str) -> str:
    """holds / (unknown + error) of a bound method, or "not run"."""
    v = r.get(f"{tool}_hvue")
    if not isinstance(v, str):
        return "not run"
    p = v.split("/")
    return f"{p[0]}/{int(p[2]) + int(p[3])}"


def table(s: pd.DataFrame) -> list[str]:
    """The markdown summary table."""
    head = (
        "| model | eps | mipnet h/v/u/e | Gurobi ML h/v/u/e | CROWN h/u | alpha-CROWN h/u | median s mipnet | "
        "median s Gurobi ML | median s CROWN | median s alpha-CROWN | median mipnet/Gurobi ML, robust (range) | "
        "median mipnet/Gurobi ML, hard robust (range) | median mipnet/Gurobi ML, all decided | "
        "mipnet/CROWN where CROWN proves: median, max | "
        "mipnet/alpha-CROWN where it proves: median, max | mipnet before h/v/u/e | median s mipnet before | "
        "mipnet before/CROWN where CROWN proves: median, max | mipnet/mipnet before: where CROWN proves, all |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for _, r in s.iterrows():
        n = int(r.get("robust_queries", 0))
        span = f"{_f(r.get('ratio_gurobi_min'))}-{_f(r.get('ratio_gurobi_max'))}, " if n else ""
        rg = f"{_f(r.get('ratio_gurobi_median'))} ({span}n={n})"
        nh = int(r.get("hard_robust_queries", 0))
        span = f"{_f(r.get('ratio_gurobi_hard_min'))}-{_f(r.get('ratio_gurobi_hard_max'))}, " if nh else ""
        rh = f"{_f(r.get('ratio_gurobi_hard_median'))} ({span}n={nh})"
        lines.append(
            f"| {r.model} | {r.eps:g} | {r.get('mipnet_hvue', 'not run')} | {r.get('gurobi_ml_hvue', 'not run')} | "
            f"{_hu(r, 'crown')} | {_hu(r, 'alpha_crown')} | {_f(r.get('mipnet_median_s'))} | "
            f"{_f(r.get('gurobi_ml_median_s'))} | {_f(r.get('crown_median_s'), 3)} | "
            f"{_f(r.get('alpha_crown_median_s'), 3)} | {rg} | {rh} | {_f(r.get('ratio_gurobi_all_median'))} | "
            f"{_f(r.get('ratio_crown_median'))}, {_f(r.get('ratio_crown_max'))} (n={r.get('crown_proves', 0)}) | "
            f"{_f(r.get('ratio_alpha_crown_median'))}, {_f(r.get('ratio_alpha_crown_max'))} "
            f"(n={r.get('alpha_crown_proves', 0)}) | {r.get('mipnet_before_hvue', 'not run')} | "
            f"{_f(r.get('mipnet_before_median_s'), 3)} | {_f(r.get('ratio_before_crown_median'))}, "
            f"{_f(r.get('ratio_before_crown_max'))} | {_f(r.get('ratio_new_before_crown_median'), 3)}, "
            f"{_f(r.get('ratio_new_before_median'), 3)} |"
        )
    return lines
