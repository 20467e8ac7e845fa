"""The audit's page: :func:`render_html` turns an :class:`~.run.Audit` into a page a non-programmer can read.

Every figure is a matplotlib (Agg) PNG embedded as base64 (:mod:`.figures`); the page needs no script, network
or file besides itself. The page, top to bottom: the verdicts at a glance; the model (layers, a diagram of the
surviving weights and neurons; for one hidden layer the whole model as a scorecard,
:func:`.summaries.scorecard_html`); the training certificate when the model carries one (gap, incumbent and
bound, and their progress over time when the trainer recorded it); accuracy on the data; each property with its
verdict, proved bound and witness; the local linear classifiers in feature names; the certificate files; a
glossary of the words used (:mod:`.words`). Every technical term is explained where it is used (the layers, the
hinge loss, the logit, a bound, the L-inf distance, the gap); classes are named by their names; eps is explained
per feature in the features' own units, with the statement that the robustness ball is cut to the model's
domain; the accuracy says which rows it is measured on. The frame is
``mipnet/report/templates/report.html`` (a :class:`string.Template`).
"""

from __future__ import annotations

import base64
import html
import re
import string
from importlib import resources
from pathlib import Path
from typing import Sequence

from .figures import _png, progress_points, sparsity_figure, training_figure
from .run import Audit, _fmt
from .summaries import scorecard_html
from .words import feature_kinds, glossary_html, layer_words

VERDICT_WORDS = {"holds": "holds", "violated": "violated", "unknown": "undecided"}


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _badge(verdict: str) -> str:
    cls = verdict if verdict in ("holds", "violated") else "unknown"
    return f'<span class="verdict {cls}">{VERDICT_WORDS.get(verdict, html.escape(verdict))}</span>'


def _table(rows: list[dict[str, str]], numeric: Sequence[str] = ()) -> str:
    if not rows:
        return ""
    cols = list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            if c == "verdict":
                cells.append(f"<td>{_badge(v)}</td>")
            else:
                cells.append(f'<td class="num">{v}</td>' if c in numeric else f"<td>{v}</td>")
        bad = ' class="bad"' if r.get("verdict") == "violated" else ""  # a violated row stands out
        body.append(f"<tr{bad}>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _section_summary(a: Audit) -> str:
    items = []
    for p in a.properties:
        if p.recheck.status == "failed":  # a verdict its own re-check refutes is not shown as the answer
            cell = (
                f"{_badge('unknown')} claimed {html.escape(p.verdict)}, but its certificate's re-check FAILED ("
                + html.escape("; ".join(p.recheck.problems()))
                + "): the claim is not evidence"
            )
        else:
            cell = _badge(p.verdict)
        items.append(f"<tr><td>{html.escape(p.name)}</td><td>{cell}</td></tr>")
    if a.training is not None:
        g = a.training.answer.get("gap")
        rc = a.training_recheck
        if rc is not None and rc.status == "failed":  # a claim the re-check refuted is not repeated as proved
            words = "the re-check FAILED (" + "; ".join(rc.problems()) + "): the claim is not evidence"
        else:
            words = _gap_words(g, rc is not None and rc.status == "ok") + (
                ""
                if rc is None
                else f"; re-check with the training rows: {rc.verdict()}"
                if a.training_rows
                else "; re-check without the training rows: integrity and terms only"
            )
        items.append(
            f"<tr><td>Training certificate</td><td>{html.escape(str(a.training.status))} (claimed), gap "
            f"{'-' if g is None else f'{100 * float(g):.2f} %'} ({html.escape(words)})</td></tr>"
        )
    if "accuracy" in a.quality:
        items.append(
            f"<tr><td>Accuracy on {html.escape(a.data_name)}</td><td>{100 * a.quality['accuracy']:.1f} %"
            f" of {a.quality['n_rows']} rows: {html.escape(_rows_short(a))}</td></tr>"
        )
    return (
        '<div class="box"><h3>At a glance</h3><table class="summary">' + "".join(items) + "</table>"
        '<p class="muted">"holds" means proved for every input the property covers, not only tested; '
        '"violated" means a concrete input shows the problem; "undecided" means neither was reached (a time '
        "limit, a tie or numerical trouble: each property's note says which). "
        'Technical words are explained where they are used and in the <a href="#glossary">glossary</a> at '
        "the end of the page.</p></div>"
    )


def _gap_words(g: object, reproved: bool = True) -> str:
    """What a training gap means, in a few words (``reproved`` False: the trainer's claim, not re-proved here)."""
    if g is None:
        return "no proved bound: nobody knows how far a better network could be"
    gap = float(g)  # type: ignore[arg-type]
    if gap <= 1e-6:
        if not reproved:
            return "the trainer claims the best network of its class on the training rows (not re-proved here)"
        return "proved the best network of its class on the training rows"
    return (
        f"a network of the same class with an objective up to {100 * gap:.0f} % lower might exist; "
        "this one is not proved the best"
    )


def _rows_short(a: Audit) -> str:
    note = a.data_note or ""
    # the first clause: up to a colon or the end of the first sentence (a file name's own dots stay)
    return re.split(r"[:.](?:\s|$)", note)[0] if note else "all rows of the data"


def _section_model(a: Audit) -> str:
    net = a.net
    rows = []
    for i, layer in enumerate(net.layers):
        rows.append(
            {
                "#": str(i),
                "layer": html.escape(layer.kind),
                "what it does": html.escape(layer_words(layer.kind)),
                "output shape": html.escape(str(net.shapes[i + 1])),
                "parameters": str(layer.n_params()),
                "non-zero": str(layer.n_nonzero()),
            }
        )
    units = net.active_units()
    alive = "; ".join(f"layer {u['layer']}: {u['active']} of {u['total']} {u['kind']} in use" for u in units)
    classes = ""
    if net.task == "classify" and net.class_names:
        classes = (
            " It puts each case into one of the classes "
            + ", ".join(f"<b>{html.escape(str(c))}</b>" for c in net.class_names)
            + "."
        )
    return (
        f"<h2>1. The model</h2><p>A {html.escape(net.task == 'classify' and 'classifier' or 'regressor')} "
        f"with {net.n_inputs} input features, {len(net.layers)} layers (stages of arithmetic the data pass "
        f"through in order) and {net.n_nonzero()} of {net.n_weights()} weights non-zero (biases and input "
        f"scaling not counted; a weight of 0 is a connection the model does not use). {html.escape(alive)}."
        f"{classes}</p>"
        f"{_table(rows, ('parameters', 'non-zero'))}{_img(_png(sparsity_figure(net)), 'sparsity diagram')}"
        f"{_domain_table(a)}"
        f'<p class="muted">Model fingerprint (SHA-256): <code>{net.fingerprint()}</code></p>'
        f"{scorecard_html(net)}"
    )


def _domain_table(a: Audit) -> str:
    """The model's domain (the inputs it is meant for) per feature, in the features' own units."""
    d = a.net.domain
    kinds = feature_kinds(a.net)
    words = {
        "indicator": "yes/no (0 or 1)",
        "category": "category indicator (0 or 1; one per group is 1)",
        "whole number": "whole number",
        "constant": "constant (its domain holds a single value)",
        "number": "number",
    }
    if d.n_features > 60:
        return ""

    def num(v: float) -> str:
        return format(float(v), ".6g") if abs(float(v)) != float("inf") else "no limit"

    rows = [
        {"feature": html.escape(str(n)), "kind": words[kinds[i]], "lowest": num(d.lower[i]), "highest": num(d.upper[i])}
        for i, n in enumerate(d.names)
    ]
    return (
        "<details><summary>The model's domain: the inputs it is meant for</summary><p>Every proof on this "
        "page speaks of inputs inside this domain only: each feature between its lowest and highest value, in "
        "its own units (the raw data, before any scaling the model does inside).</p>"
        + _table(rows, ("lowest", "highest"))
        + "</details>"
    )


def _section_training(a: Audit) -> str:
    if a.training is None:
        told = a.net.metadata.get("training_summary") if isinstance(a.net.metadata, dict) else None
        if isinstance(told, str) and told:  # what the program that trained it says, in words
            return (
                "<h2>2. Training certificate</h2><p>The model file carries no re-checkable training "
                f"certificate. How it was trained: {html.escape(told)}</p>"
            )
        return (
            "<h2>2. Training certificate</h2><p>The model file carries no training certificate (it was not "
            "trained by mipnet's MILP trainer, or the certificate was removed).</p>"
        )
    c = a.training
    ans, q = c.answer, c.question
    g = ans.get("gap")
    terms = ans.get("terms") or {}
    rows = [{"term": html.escape(k), "value": _fmt(v, ".6g")} for k, v in terms.items()]
    meta = a.net.metadata.get("certificate", {})
    prog = (
        ""
        if progress_points(meta)
        else (
            '<p class="muted">The trainer did not record the incumbent and the bound over time; '
            "the final values are shown.</p>"
        )
    )
    rc = a.training_recheck
    # "proved" only where this audit's re-check re-proved it (with the training rows); else the trainer's claim
    reproved = rc is not None and rc.status == "ok"
    bound_words = "proved bound" if reproved else "claimed bound (not re-proved here)"
    rc_line = (
        ""
        if rc is None
        else (
            f"<p>Independent re-check (objective recomputed from the weights; bound re-proved "
            f"by a fresh solve where the training rows are at hand): <b>{rc.status}</b>"
            + (f" ({html.escape('; '.join(rc.problems()))})" if rc.problems() else "")
            + "</p>"
        )
    )
    return (
        f"<h2>2. Training certificate</h2><p>The weights were found by solving the training problem "
        f"({html.escape(str(q.get('hypothesis')))} network class, {html.escape(str(q.get('loss')))} loss, "
        f"{html.escape(str(q.get('n_samples')))} training rows) with {html.escape(str(c.solver.get('name')))} "
        f"{html.escape(str(c.solver.get('version')))}. Status <b>{html.escape(str(c.status))}</b>: "
        f"objective {_fmt(ans.get('incumbent'), '.6g')}, {bound_words} {_fmt(ans.get('bound'), '.6g')}, gap "
        f"{'-' if g is None else f'{100 * float(g):.2f} %'} (0 % = no better network of this class exists), "
        f"{_fmt(ans.get('time'), '.1f')} s.</p><p>In plain words: the <i>objective</i> is the number training "
        "makes as small as it can (the average loss on the training rows plus penalties on the weights); the "
        "<i>proved bound</i> is a value no network of this class can go below; the <i>gap</i> between them "
        f"says how much better a network could still be: {_gap_words(g, reproved)}.</p>{_table(rows, ('value',))}"
        f"{_img(_png(training_figure(meta)), 'training certificate')}{prog}{rc_line}"
    )


def _section_quality(a: Audit) -> str:
    q = a.quality
    note = a.data_note if not a.data_note or a.data_note.endswith(".") else a.data_note + "."
    out = [
        f"<h2>3. Accuracy on the data</h2><p>Measured on {html.escape(note)}"
        if note
        else f"<h2>3. Accuracy on the data</h2><p>{q['n_rows']} rows of <code>{html.escape(a.data_name)}</code>."
    ]
    if "accuracy" in q:
        column = f" (the labels are column <code>{html.escape(a.target)}</code>)" if a.target else ""
        out.append(f" The model classifies <b>{100 * q['accuracy']:.1f} %</b> of them correctly{column}.</p>")
        assert a.net.class_names is not None  # accuracy is computed for classifiers
        names = [str(c) for c in a.net.class_names]
        rows = [
            {
                "true class": html.escape(n),
                # column names are plain text: _table escapes its header cells
                **{f"predicted {m}": str(v) for m, v in zip(names, q["confusion"][i])},
            }
            for i, n in enumerate(names)
        ]
        out.append(_table(rows, tuple(f"predicted {m}" for m in names)))
    elif "mae" in q:
        out.append(
            f" Mean absolute error {q['mae']:.4g}"
            + (f", R<sup>2</sup> {q['r2']:.3f}" if q.get("r2") is not None else "")
            + ".</p>"
        )
    else:
        out.append(
            " " + html.escape(q.get("note", "The data have no target column: accuracy is not computed.")) + "</p>"
        )
    if "predicted" in q:
        out.append(
            "<p>Predictions: " + ", ".join(f"{html.escape(k)}: {v}" for k, v in q["predicted"].items()) + ".</p>"
        )
    return "".join(out)


def _section_properties(a: Audit) -> str:
    out = ["<h2>4. Properties</h2>"]
    if not a.properties:
        out.append("<p>No property was requested.</p>")
    for p in a.properties:
        rc = p.recheck
        rows = p.rows
        if rc.status == "failed":  # a verdict its own re-check refutes is shown as no answer, here as at a glance
            head = f"{_badge('unknown')} (claimed {html.escape(p.verdict)}: its certificate's re-check FAILED)"
            sentence = "<b>The re-check FAILED: what follows is the claim, not evidence.</b> " + p.sentence
            rows = [{**r, "verdict": "unknown"} if "verdict" in r else r for r in rows]
        else:
            head, sentence = _badge(p.verdict), p.sentence
        out.append(f"<h3>{html.escape(p.name)} {head}</h3><p>{sentence}</p>{p.details}")
        out.append(_table(rows, ("bound", "Phi", "time")))
        out.append(
            f'<p class="muted">Re-checked independently (witnesses with the network\'s own arithmetic, '
            f"'holds' claims re-proved by a fresh solve on a model rebuilt from the weights): "
            f"<b>{rc.status}</b>"
            + (f" ({html.escape('; '.join(rc.problems()))})" if rc.problems() else "")
            + f". Solver: {html.escape(str(p.certificate.solver.get('name')))} "
            f"{html.escape(str(p.certificate.solver.get('version')))}. Certificate: "
            f"<code>{html.escape(Path(p.cert_path).name if p.cert_path else 'not written')}</code>.</p>"
        )
        if p.figures:
            out.append(
                "<details open><summary>Figures</summary>"
                + "".join(_img(png, t) for t, png in p.figures)
                + "</details>"
            )
    return "".join(out)


def _section_explanation(a: Audit) -> str:
    e = a.explanation
    out = ["<h2>5. How the model decides: local linear rules</h2>"]
    if e is None or "regions" not in e:
        out.append(f"<p>{html.escape((e or {}).get('note', 'not available'))}</p>")
        return "".join(out)
    ex = e["exactness"]
    classes = a.net.class_names or []  # a classifier's, used only when a.net.task == "classify"
    if a.net.task != "classify":
        sign = "a higher score means a higher prediction"
    elif len(classes) == 2:
        sign = f"a positive score means class <b>{html.escape(str(classes[-1]))}</b>"
    else:  # several classes: the score of a region compares its top class with the runner-up
        sign = "a positive score means the region's top class wins over the runner-up"
    out.append(
        f"<p>On the data the network behaves like {e['n_regions']} simple linear rules, one per region of "
        f"inputs that switch on the same neurons. Within a region the score ({html.escape(e['score'])}) is "
        f"exactly a weighted sum of the features; {sign}. "
        f"These rules reproduce the network exactly on {100 * ex['exact_fraction']:.0f} % of the rows "
        f"(largest difference {ex['max_abs_error']:.2g}). The largest regions:</p>"
    )
    if e.get("sample"):
        out.append(f"<p>Explained on {html.escape(e['sample'])}: counts and shares are of those rows.</p>")
    for r in e["regions"]:
        terms = " ".join(
            f"{'+' if w >= 0 else '&minus;'} {abs(w):.3g}&middot;{html.escape(n)}" for n, w, _ in r["terms"]
        )
        more = r["n_nonzero"] - len(r["terms"])
        versus = (
            f" &mdash; score = logit of {html.escape(r['classes'][0])} minus logit of {html.escape(r['classes'][1])}"
            if r.get("classes")
            else ""
        )
        out.append(
            f"<h3>Region {r['k'] + 1}: {r['count']} rows ({100 * r['share']:.0f} %){versus}</h3>"
            f"<p><code>score = {r['bias']:.3g} {terms}{f' + {more} more' if more > 0 else ''}</code></p>"
            + (
                _img(r["figure"], "region rule")
                if r["figure"] is not None
                else "<p>The score is constant here: no feature changes it within this region (every hidden "
                "neuron it passes through is off).</p>"
            )
        )
    return "".join(out)


def _section_certificates(a: Audit) -> str:
    rows = []
    for p in a.properties:
        rows.append(
            {
                "property": html.escape(p.name),
                "file": html.escape(p.cert_path or "not written"),
                "seal (SHA-256)": f"<code>{p.certificate.compute_seal()[:16]}...</code>",
            }
        )
    if a.training is not None:
        rows.append(
            {
                "property": "training",
                "file": html.escape(
                    str(Path(a.properties[0].cert_path).parent / "training.json")
                    if a.properties and a.properties[0].cert_path
                    else "not written"
                ),
                "seal (SHA-256)": f"<code>{a.training.compute_seal()[:16]}...</code>",
            }
        )
    return (
        "<h2>6. Certificate files</h2><p>Each file records the question, the model's and the data's "
        "SHA-256, the solver and the answer with its witnesses. Anyone can re-check them against the model "
        f"(<code>{html.escape(a.model_name)}</code>): <code>mipnet recheck FILE.json MODEL [DATA.csv]</code>."
        "</p>" + _table(rows)
    )


def render_html(a: Audit) -> str:
    """The self-contained page (a string) of an audit."""
    from ... import __version__

    template = resources.files("mipnet.report").joinpath("templates").joinpath("report.html")
    tpl = string.Template(template.read_text("utf-8"))
    body = "".join(
        [
            _section_summary(a),
            _section_model(a),
            _section_training(a),
            _section_quality(a),
            _section_properties(a),
            _section_explanation(a),
            _section_certificates(a),
            glossary_html(),
        ]
    )
    subtitle = (
        f"Model <code>{html.escape(a.model_name)}</code>, data <code>{html.escape(a.data_name)}</code>; "
        f"{len(a.properties)} propert{'y' if len(a.properties) == 1 else 'ies'} checked in {a.time:.1f} s "
        f"({html.escape(a.scheduler)})."
    )
    return tpl.substitute(
        title=html.escape(f"Audit of {a.model_name}"),
        subtitle=subtitle,
        body=body,
        created=html.escape(a.created),
        mipnet_version=__version__,
    )


def write_report(a: Audit, path: str | Path) -> Path:
    from ...io.atomic import atomic_write_text

    p = Path(path)
    atomic_write_text(p, render_html(a))
    return p


def default_cert_dir(report: str | Path) -> Path:
    """``report.html`` -> ``report-certificates/`` beside it."""
    p = Path(report)
    return p.with_name(p.stem + "-certificates")


__all__ = ["VERDICT_WORDS", "render_html", "write_report", "default_cert_dir"]
