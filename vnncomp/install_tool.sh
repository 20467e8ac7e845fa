#!/usr/bin/env bash
# VNN-COMP install_tool.sh for mipnet. One argument: v1.
# Installs mipnet from this repository (the folder above this script) with its ONNX support.

VERSION_STRING=v1
if [ "$1" != "$VERSION_STRING" ]; then
    echo "Expected first argument (version string) '$VERSION_STRING', got '$1'" >&2
    exit 1
fi

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"${PYTHON:-python3}" -m pip install "$REPO[onnx]"
