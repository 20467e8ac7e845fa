#!/usr/bin/env bash
# VNN-COMP prepare_instance.sh for mipnet. Four arguments:
#   v1 CATEGORY ONNX_FILE VNNLIB_FILE
# No analysis (the rules forbid it here, and mipnet needs no conversion step): checks the arguments and that
# the mipnet command starts. Exit 0 when ready, 1 otherwise.

VERSION_STRING=v1
if [ "$1" != "$VERSION_STRING" ]; then
    echo "Expected first argument (version string) '$VERSION_STRING', got '$1'" >&2
    exit 1
fi
if [ "$#" -ne 4 ]; then
    echo "usage: $0 v1 CATEGORY ONNX_FILE VNNLIB_FILE (got $# arguments)" >&2
    exit 1
fi

if [ -n "$MIPNET_PYTHON" ]; then
    MIPNET=("$MIPNET_PYTHON" -m mipnet.cli)
elif command -v mipnet >/dev/null 2>&1; then
    MIPNET=(mipnet)
else
    MIPNET=(python3 -m mipnet.cli)
fi

echo "mipnet: preparing category '$2', onnx '$3', vnnlib '$4'"
"${MIPNET[@]}" --version >/dev/null || { echo "the mipnet command does not start" >&2; exit 1; }
exit 0
