#!/usr/bin/env bash
# auto_LiRPA's venv for benchmarks/robustness_competitors.py (its CROWN / alpha-CROWN columns).
# auto_LiRPA's PyPI release (0.3) pins torch < 1.13 and torchvision; neither is installed here: the venv gets the
# local CPU torch 2.13 wheel, auto_LiRPA without its pins, numpy < 2 (auto_LiRPA 0.3 imports numpy.lib.arraysetops)
# and its light dependencies. benchmarks/robustness/lirpa_worker.py maps three renamed torch helpers back.
set -euo pipefail
VENV=${1:-/work/bench-venvs/lirpa}
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q torch==2.13.0
"$VENV/bin/pip" install -q --no-deps auto_LiRPA==0.3
"$VENV/bin/pip" install -q "numpy<2" packaging appdirs pyyaml tqdm
echo "auto_LiRPA venv ready: $VENV/bin/python"
