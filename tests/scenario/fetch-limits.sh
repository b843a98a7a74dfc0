#!/bin/sh
# What bounds a transfer: the time a whole download may take, the average rate a mirror
# must keep, a redirect that would leave https, and a bundle refused part way, which must
# end its transfer at once. The mirrors are tests/pkg/http-serve on 127.0.0.1: one that
# trickles just above the stall limit, one that goes silent, one that redirects.
. "${srcdir}/tests/scenario/lib.sh"

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}
for tool in python3 openssl tar; do
	command -v "$tool" >/dev/null 2>&1 || skip_all "$tool not found"
done

WWW="$TMPD/www"
ROOT="$TMPD/root"

# verify URL [OPTIONS]: bundle verify, its exit code in rc, how long it took in secs, its
# messages in $TMPD/err. A guard of 60 s stands for "hours": a transfer that is not bounded
# is killed there (rc 124).
verify() {
	t0=$(date +%s)
	rc=0
	timeout 60 ${TEST_WRAPPER:-} "$GPUPROV" -q --root "$ROOT" bundle verify "$@" >/dev/null 2>"$TMPD/err" || rc=$?
	secs=$(($(date +%s) - t0))
}
# within LOW HIGH: the last verify took LOW to HIGH seconds.
within() {
	[ "$secs" -ge "$1" ] && [ "$secs" -le "$2" ] || {
		echo "took $secs s, not $1 to $2" >&2
		return 1
	}
}

mkdir -p "$WWW" "$ROOT"
# A tar whose first member, the manifest, is a megabyte: read whole before anything is
# judged, 260 seconds at the trickle's 4000 bytes a second.
head -c 1048576 /dev/zero | tr '\0' ' ' >"$TMPD/manifest.json"
tar -C "$TMPD" -cf "$WWW/slow.bundle" manifest.json
# Not an archive at all: refused at its first bytes.
head -c 1048576 /dev/urandom >"$WWW/garbage.bundle"

# --- a mirror that trickles just above the stall limit (1 KiB/s) ---
serve slow --rate 4000
SLOW="http://127.0.0.1:$PORT"
verify "$SLOW/slow.bundle" --max-time 3
check "--max-time 3: a trickling transfer fails (exit 1)" test "$rc" -eq 1
check "--max-time 3: given up after 3 s, not hours" within 3 10
check "--max-time: the failure says the time ran out" grep -q "not done within 3 s" "$TMPD/err"

verify "$SLOW/slow.bundle" --stall-time 2 --min-rate 64K
check "--min-rate 64K: a mirror at 4000 bytes/s fails (exit 1)" test "$rc" -eq 1
check "--min-rate: given up once it ran the stall time (2 s)" within 2 10
check "--min-rate: the failure names the rate" grep -q "slower than 65536 bytes/s on average after 2 s" "$TMPD/err"

serve fast
FAST="http://127.0.0.1:$PORT"
verify "$SLOW/slow.bundle" --mirror "$FAST/slow.bundle" --stall-time 2 --min-rate 64K
# The whole archive arrived: it is refused for what it is (a manifest that is no JSON, no
# signature), not for its transfer.
check "--min-rate: the next mirror takes over and the download ends (exit 3)" test "$rc" -eq 3
check "--min-rate: in seconds" within 2 10
check "--min-rate: the next mirror resumed where the slow one stopped" \
	grep -q '"GET /slow.bundle HTTP/1.1" 206 - Range: bytes=[1-9][0-9]*-$' "$TMPD/fast/access.log"

# --- https redirected to plain http ---
"$srcdir/tests/pkg/make-test-ca" "$TMPD/ca" >/dev/null 2>&1 || exit 1
serve plain
PLAIN_PORT=$PORT
serve downgrade --tls "$TMPD/ca/server.pem" "$TMPD/ca/server.key" --redirect "http://localhost:$PLAIN_PORT"
verify "https://127.0.0.1:$PORT/garbage.bundle" --cacert "$TMPD/ca/ca.pem"
check "https redirected to http on another host: fails (exit 1)" test "$rc" -eq 1
check "the http server was never asked" test ! -s "$TMPD/plain/access.log"
check "the failure says why" grep -q "a redirect from https stays on https" "$TMPD/err"
check "the refused redirect is not tried again" \
	test "$(grep -c '"GET /garbage.bundle' "$TMPD/downgrade/access.log")" -eq 1

serve tls --tls "$TMPD/ca/server.pem" "$TMPD/ca/server.key"
serve upgrade --tls "$TMPD/ca/server.pem" "$TMPD/ca/server.key" --redirect "https://localhost:$(cat "$TMPD/tls/port")"
verify "https://127.0.0.1:$PORT/garbage.bundle" --cacert "$TMPD/ca/ca.pem"
check "https redirected to https on another host is followed (the bundle is refused, exit 3)" test "$rc" -eq 3
check "the https server was asked" grep -q '"GET /garbage.bundle' "$TMPD/tls/access.log"
serve hop --redirect "http://localhost:$PLAIN_PORT"
verify "http://127.0.0.1:$PORT/garbage.bundle"
check "http redirected to http is followed (exit 3)" test "$rc" -eq 3
check "the http server was asked" grep -q '"GET /garbage.bundle' "$TMPD/plain/access.log"

# --- a refusal ends the transfer ---
# The mirror sends 64 KiB and then nothing; the stall limit alone would give up after 60 s
# and then try again.
serve silent --hang-after 65536
verify "http://127.0.0.1:$PORT/garbage.bundle"
check "a bundle refused at its first bytes: exit 3" test "$rc" -eq 3
check "refused at once, the transfer not waited for" within 0 5
check "the refusal is the archive's" grep -q "Unrecognized archive format" "$TMPD/err"

# A mirror that announces more than a bundle may ever hold (64 GiB and its headers): the
# same archive as slow.bundle, sparse up to 80 GiB. Its first megabyte alone would be
# refused as a manifest that is no JSON; it must be refused for its size, before that.
cp "$WWW/slow.bundle" "$WWW/huge.bundle"
truncate -s 80G "$WWW/huge.bundle"
verify "$FAST/huge.bundle"
check "a mirror announcing 80 GiB: refused (exit 3)" test "$rc" -eq 3
check "refused for its size" grep -q "too large" "$TMPD/err"

# --- what the options take ---
for bad in "--max-time 0" "--max-time x" "--stall-time 604801" "--min-rate 10G" "--connect-timeout -1"; do
	verify "$FAST/garbage.bundle" $bad
	check "$bad: refused as usage (exit 2)" test "$rc" -eq 2
done
verify "$FAST/garbage.bundle" --min-rate 1M --max-time 60 --connect-timeout 5 --stall-time 30
check "the options with good values are taken" test "$rc" -eq 3

done_testing
