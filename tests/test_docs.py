"""The documentation site (mkdocs.yml, docs/*.md) builds, and every example in it runs.

* The site is built with ``mkdocs build --strict`` (every warning an error: a broken link, an object
  mkdocstrings cannot find, a docstring it cannot render), and the generated command line reference lists
  every command and subcommand of the ``mipnet`` click tree.
* Every fenced block of a page marked ``python`` runs, and so does every ``$ mipnet ...`` line of a block
  marked ``console``: the blocks of one page run in document order in one subprocess, the Python blocks in
  one namespace, the shell lines as ``python -m mipnet.cli``, all in a fresh directory (so a console line
  may read a file an earlier Python block wrote). Blocks marked ``text`` are illustrative output; ``bash``
  blocks are long jobs (installation, ``mipnet demo``, the README session) that are not run here: the
  getting-started session is checked to be the README's, which tests/test_readme.py runs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
#: commands whose verdicts set the exit code (1 violated, 3 unknown), as the exit codes of the docs say
VERDICT_COMMANDS = ("verify", "audit", "demo", "recheck")

#: runs in the subprocess: argv[1] is a JSON list of [kind, source, code] steps
DRIVER = r"""
import json, shlex, subprocess, sys
steps = json.load(open(sys.argv[1]))
verdicts = tuple(json.loads(sys.argv[2]))
namespace = {"__name__": "__docs__"}
for kind, source, code in steps:
    if kind == "python":
        exec(compile(code, source, "exec"), namespace)
        continue
    for line in code.splitlines():
        if not line.startswith("$ "):
            continue
        argv = shlex.split(line[2:], comments=True)
        assert argv[0] == "mipnet", f"{source}: only mipnet commands run here: {line}"
        proc = subprocess.run([sys.executable, "-m", "mipnet.cli", *argv[1:]], capture_output=True, text=True)
        allowed = (0, 1, 3) if len(argv) > 1 and argv[1] in verdicts else (0,)
        if proc.returncode not in allowed:
            sys.exit(f"{source}: {line!r} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
print("ok")
"""


def _blocks(page: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(page.read_text())]


def _runnable(page: Path) -> list[tuple[str, str]]:
    return [(k, c) for k, c in _blocks(page) if k == "python" or (k == "console" and "$ mipnet" in c)]


def _env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return dict(os.environ, PYTHONPATH=path, MPLBACKEND="Agg", NO_MKDOCS_2_WARNING="1")


def test_docs_have_the_pages_and_runnable_examples():
    names = {p.name for p in PAGES}
    for name in (
        "index.md",
        "getting-started.md",
        "training.md",
        "verification.md",
        "explanations.md",
        "embedding.md",
        "certificates.md",
        "formulations.md",
        "cli.md",
        "api.md",
    ):
        assert name in names, name
    runnable = [b for p in PAGES for b in _runnable(p)]
    assert sum(k == "python" for k, _ in runnable) >= 10
    shell = "\n".join(c for k, c in runnable if k == "console")
    for command in ("$ mipnet --help", "$ mipnet datasets", "$ mipnet info"):
        assert command in shell, command


def test_nav_lists_every_page():
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["strict"] is True and config["docs_dir"] == "docs"
    nav = [next(iter(item.values())) for item in config["nav"]]
    assert sorted(nav) == sorted(p.name for p in PAGES)


def test_site_builds_strict_with_every_command(tmp_path: Path):
    for module in ("mkdocs", "material", "mkdocs_click", "mkdocstrings", "mkdocstrings_handlers.python"):
        pytest.importorskip(module, reason=f"{module} is not installed (pip install -e '.[docs]')")
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(site)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    for page in PAGES:
        out = site / ("index.html" if page.stem == "index" else f"{page.stem}/index.html")
        assert out.exists(), out

    import click

    from mipnet.cli import cli

    def paths(cmd: click.Command, prefix: str) -> list[str]:
        subs = cmd.commands.values() if isinstance(cmd, click.Group) else []
        return [prefix] + [p for sub in subs for p in paths(sub, f"{prefix}-{sub.name}")]

    reference = (site / "cli" / "index.html").read_text()
    expected = paths(cli, "mipnet")
    assert len(expected) > 10
    missing = [p for p in expected if f'id="{p}"' not in reference]
    assert not missing, f"commands missing from the command line reference: {missing}"
    api = (site / "api" / "index.html").read_text()
    for name in ("mipnet.Network", "mipnet.MIPNetClassifier", "mipnet.add_network", "mipnet.io.load_model"):
        assert name in api, name


def test_getting_started_session_is_the_readme_session():
    def session(text: str) -> list[str]:
        blocks = [c for k, c in FENCE.findall(text) if k == "bash" and c.lstrip().startswith("mipnet ")]
        return [ln.strip() for b in blocks for ln in b.splitlines() if ln.strip()]

    readme = session((ROOT / "README.md").read_text())
    assert len(readme) >= 5
    assert session((DOCS / "getting-started.md").read_text()) == readme


@pytest.mark.parametrize("page", [p for p in PAGES if _runnable(p)], ids=lambda p: p.stem)
def test_page_examples_run(page: Path, tmp_path: Path):
    steps = [[k, f"{page.name}: block {i + 1} ({k})", c] for i, (k, c) in enumerate(_runnable(page))]
    (tmp_path / "steps.json").write_text(json.dumps(steps))
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(tmp_path / "steps.json"), json.dumps(VERDICT_COMMANDS)],
        cwd=work,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"{page.name}\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    assert proc.stdout.rstrip().endswith("ok")
