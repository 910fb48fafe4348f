#!/bin/sh
# Usage: check_failure.sh MESSAGE PROGRAM [ARGS...]
# Passes when PROGRAM ARGS exits non-zero and its output (stdout + stderr) contains MESSAGE
# (a fixed string); used by CTest for command-line error cases (tests/CMakeLists.txt).
message="$1"
shift
output=$("$@" 2>&1)
status=$?
if [ "$status" -eq 0 ]; then
  echo "check_failure: '$*' exited 0; expected an error containing: $message"
  echo "$output"
  exit 1
fi
if ! printf '%s\n' "$output" | grep -F -q -- "$message"; then
  echo "check_failure: '$*' exited $status without the expected message: $message"
  echo "$output"
  exit 1
fi
echo "check_failure: '$*' failed as expected (exit $status): $message"
