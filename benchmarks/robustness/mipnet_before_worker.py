"""An earlier mipnet's ``verify_sample`` in its own process, for a "before" column in the same run.

    PYTHONPATH=<tree of the earlier mipnet> python mipnet_before_worker.py MODEL.json

The tree is e.g. ``git archive <commit> | tar -x -C DIR`` of the parent commit; the model is saved by the current
mipnet in its native JSON (format version 1, which the earlier code reads). The worker prints
``{"ready": true, "mipnet": "<path of the imported package>"}`` first, then answers one JSON line per query on
stdin, ``{"x": [...], "eps": e, "limit": s}``, with ``{"verdict", "seconds", "prover", "counterexample"}``:
``verify_sample(net, x, eps, "inf", time_limit=limit, threads=1)`` as the benchmark calls the current one, and
``seconds`` its ``RobustnessResult.time`` (the same clock as the current column).
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    import numpy as np

    import mipnet
    from mipnet.io import load_model
    from mipnet.verify.robustness import verify_sample

    net = load_model(sys.argv[1])
    print(json.dumps({"ready": True, "mipnet": str(mipnet.__file__)}), flush=True)
    for line in sys.stdin:
        q = json.loads(line)
        x = np.asarray(q["x"], dtype=np.float64)
        r = verify_sample(net, x, float(q["eps"]), "inf", time_limit=float(q["limit"]), threads=1)
        cex = None if r.counterexample is None else [float(v) for v in r.counterexample]
        out = {"verdict": r.verdict, "seconds": float(r.time), "prover": r.prover, "counterexample": cex}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
