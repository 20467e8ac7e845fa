"""MkDocs hook: let the pages name objects by their public import path, whatever module defines them.

mkdocstrings finds objects by static analysis, which follows ``from .x import Name`` re-exports but not names that
a package provides lazily through a module ``__getattr__`` (PEP 562; ``mipnet.MIPNetClassifier``,
``mipnet.add_network``). Before a page is converted, every ``::: mipnet....`` line whose path crosses such a lazy
attribute is rewritten to the object's defining module (``obj.__module__``), with the written public path kept as
the heading. So a page never names a private module, and moving a class between modules needs no edit here.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

#: a ``::: identifier`` line, with the ``options:`` line that may follow it
_BLOCK = re.compile(r"^::: (mipnet(?:\.\w+)+)[ \t]*(\n    options:[ \t]*)?$", re.M)


def _defining_path(public: str) -> str | None:
    """``module.qualname`` of the object named ``public`` if reaching it needs a lazy attribute, else None."""
    parts = public.split(".")
    obj: Any = importlib.import_module(parts[0])
    lazy = False
    for i, name in enumerate(parts[1:], start=1):
        try:
            obj = importlib.import_module(".".join(parts[: i + 1]))
            continue
        except ModuleNotFoundError:
            pass
        if name not in vars(obj):
            lazy = True
        obj = getattr(obj, name)
    if not lazy:
        return None
    return f"{obj.__module__}.{obj.__qualname__}"


def _rewrite(match: re.Match[str]) -> str:
    public = match.group(1)
    real = _defining_path(public)
    if real is None or real == public:
        return match.group(0)
    # the block's own options (if any) follow the two added here
    return f'::: {real}\n    options:\n      heading: "{public}"\n      show_root_full_path: false'


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    return _BLOCK.sub(_rewrite, markdown)
