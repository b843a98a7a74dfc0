#!/bin/sh
# The knowledge corpus (tests/knowledge/README.md): each case under tests/knowledge/cases/ is
# a machine gpuprov has never seen, built in a temp dir by tests/knowledge/corpus.py, and the
# decision its public sources call for. plan and check run on it; one test point per case and
# expectation, the case's sources shown when one is not met. An expectation marked pending is
# reported "# TODO" until gpuprov meets it.
. "$srcdir/tests/scenario/lib.sh"
. "$srcdir/tests/scenario/lib-corpus.sh"

corpus_run "$corpus/cases"

done_testing
