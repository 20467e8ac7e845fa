#!/usr/bin/env bash
# VNN-COMP run_instance.sh for mipnet. Six arguments:
#   v1 CATEGORY ONNX_FILE VNNLIB_FILE RESULT_FILE TIMEOUT
# Calls `mipnet vnncomp run`, which writes RESULT_FILE atomically: sat (followed by the counterexample
# ((X_0 v) ... (Y_0 v) ...)), unsat, timeout, unknown or error. Exits 0 whenever a result was written, error
# included: the competition's runner reads a non-zero exit as a failure of the tool. Exit 1 only for a wrong
# version string or number of arguments (nothing can be written then).
# The mipnet command: $MIPNET_PYTHON -m mipnet.cli if set, else `mipnet` on the PATH, else python3 -m mipnet.cli.

VERSION_STRING=v1
if [ "$1" != "$VERSION_STRING" ]; then
    echo "Expected first argument (version string) '$VERSION_STRING', got '$1'" >&2
    exit 1
fi
if [ "$#" -ne 6 ]; then
    echo "usage: $0 v1 CATEGORY ONNX_FILE VNNLIB_FILE RESULT_FILE TIMEOUT (got $# arguments)" >&2
    exit 1
fi

CATEGORY=$2
ONNX_FILE=$3
VNNLIB_FILE=$4
RESULT_FILE=$5
TIMEOUT=$6

if [ -n "$MIPNET_PYTHON" ]; then
    MIPNET=("$MIPNET_PYTHON" -m mipnet.cli)
elif command -v mipnet >/dev/null 2>&1; then
    MIPNET=(mipnet)
else
    MIPNET=(python3 -m mipnet.cli)
fi

echo "mipnet: category '$CATEGORY', onnx '$ONNX_FILE', vnnlib '$VNNLIB_FILE', timeout $TIMEOUT"
rm -f "$RESULT_FILE"
"${MIPNET[@]}" vnncomp run "$ONNX_FILE" "$VNNLIB_FILE" --result-file "$RESULT_FILE" --timeout "$TIMEOUT"
STATUS=$?
# 142: ended by its own alarm past the timeout (the file already says timeout); any other non-zero status:
# the command ended without a result (an unreadable timeout argument, a crash), so the result is error
if [ "$STATUS" -ne 0 ] && { [ "$STATUS" -ne 142 ] || [ ! -s "$RESULT_FILE" ]; }; then
    echo "mipnet vnncomp run exited with $STATUS" >&2
    echo "error" > "$RESULT_FILE" || true
fi
exit 0
