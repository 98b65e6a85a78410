#!/usr/bin/env bash
# `make test`: lint and type check, then the whole suite. Extra arguments go to pytest.
set -euo pipefail
.venv/bin/ruff check src tests bench scripts
.venv/bin/mypy
mkdir -p test-artifacts
set +e
.venv/bin/python -m pytest -p no:cacheprovider --junitxml=test-artifacts/junit.xml "$@"
status=$?
set -e
# pytest's 5 means "no tests ran": that is a failure for CI, never a pass.
exit $status
