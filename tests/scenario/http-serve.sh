#!/bin/sh
# The test servers the transfer tests stand on, checked with curl: tests/pkg/http-serve
# (whole files, ranges, a cut transfer and its resumption, a broken mirror, a trickle, a
# silent mirror, a redirect, HTTPS) and
# tests/pkg/make-test-ca (a CA the client trusts, and one it must not).
. "${srcdir}/tests/scenario/lib.sh"

SERVE="$srcdir/tests/pkg/http-serve"
DOCS="$TMPD/docs"
SERVERS=""

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

for tool in python3 curl openssl sha256sum; do
	command -v "$tool" >/dev/null 2>&1 || skip_all "$tool not found"
done

# serve NAME [OPTIONS]: a server for DOCS with its state in TMPD/NAME; PORT is its port.
serve() {
	name=$1
	shift
	"$SERVE" "$@" "$DOCS" "$TMPD/$name" || return 1
	SERVERS="$SERVERS $TMPD/$name"
	PORT=$(cat "$TMPD/$name/port")
}
stop_all() {
	for s in $SERVERS; do
		"$SERVE" --stop "$s"
	done
	SERVERS=""
}
trap 'stop_all; rm -rf "$TMPD"' EXIT

# get ARGS...: curl, never through a proxy from the environment, quiet but for errors.
get() {
	curl --noproxy '*' -sS "$@"
}
# code ARGS...: the HTTP status curl got.
code() {
	get -o /dev/null -w '%{http_code}' "$@"
}
# bytes FILE FIRST COUNT: COUNT bytes of FILE from offset FIRST.
bytes() {
	tail -c +"$(($2 + 1))" "$1" | head -c "$3"
}
same() {
	cmp -s "$1" "$2"
}
same_sum() {
	[ "$(sha256sum <"$1")" = "$(sha256sum <"$2")" ]
}
fails_with() {
	want=$1
	shift
	rc=0
	"$@" || rc=$?
	[ "$rc" -eq "$want" ]
}

mkdir -p "$DOCS/pool"
printf 'hello, mirror\n' >"$DOCS/hello.txt"
# 3 MiB and a bit, not a multiple of any buffer.
head -c $((3 * 1024 * 1024 + 12345)) /dev/urandom >"$DOCS/pool/blob.bin"
cp "$DOCS/pool/blob.bin" "$DOCS/pool/blob2.bin"
BLOB="$DOCS/pool/blob.bin"
SIZE=$(wc -c <"$BLOB")
CUT=1000003

# --- plain HTTP: whole files and ranges ---
serve plain || exit 1
URL="http://127.0.0.1:$PORT"
get -f -o "$TMPD/hello" "$URL/hello.txt"
check "GET: the file as it is" same "$TMPD/hello" "$DOCS/hello.txt"
get -f -o "$TMPD/blob" "$URL/pool/blob.bin"
check "GET of 3 MiB: the file as it is" same_sum "$TMPD/blob" "$BLOB"
get -f -I "$URL/pool/blob.bin" >"$TMPD/head" 2>&1
check "HEAD: 200" grep -q '^HTTP/1\.[01] 200' "$TMPD/head"
check "HEAD: the file's length" grep -qi "^Content-Length: $SIZE" "$TMPD/head"
check "HEAD: Accept-Ranges: bytes" grep -qi '^Accept-Ranges: bytes' "$TMPD/head"
check "a missing file: 404" test "$(code "$URL/none")" = 404

check "Range bytes=100-199: 206" test "$(code -r 100-199 "$URL/pool/blob.bin")" = 206
get -f -r 100-199 -D "$TMPD/range.h" -o "$TMPD/range" "$URL/pool/blob.bin"
bytes "$BLOB" 100 100 >"$TMPD/range.want"
check "Range bytes=100-199: those 100 bytes" same "$TMPD/range" "$TMPD/range.want"
check "Range bytes=100-199: Content-Range" grep -qi "^Content-Range: bytes 100-199/$SIZE" "$TMPD/range.h"
get -f -r "$CUT-" -o "$TMPD/tail" "$URL/pool/blob.bin"
bytes "$BLOB" "$CUT" "$SIZE" >"$TMPD/tail.want"
check "Range bytes=N-: the rest of the file" same "$TMPD/tail" "$TMPD/tail.want"
get -f -r -10 -o "$TMPD/last" "$URL/pool/blob.bin"
tail -c 10 "$BLOB" >"$TMPD/last.want"
check "Range bytes=-10: the last 10 bytes" same "$TMPD/last" "$TMPD/last.want"
get -f -r "100-$((SIZE + 99))" -o "$TMPD/over" "$URL/pool/blob.bin"
bytes "$BLOB" 100 "$SIZE" >"$TMPD/over.want"
check "a range past the end: cut at the end" same "$TMPD/over" "$TMPD/over.want"
check "a range that starts at the end: 416" test "$(code -r "$SIZE-" "$URL/pool/blob.bin")" = 416
get -I -r 10-19 "$URL/pool/blob.bin" >"$TMPD/head-range" 2>&1
check "HEAD with a range: 206, its length" sh -c "grep -q '^HTTP/1\.[01] 206' '$TMPD/head-range' && grep -qi '^Content-Length: 10' '$TMPD/head-range'"
check "the log: every GET" test "$(grep -c '"GET /pool/blob.bin' "$TMPD/plain/access.log")" -eq 7
check "the log: the Range header's value" grep -q '"GET /pool/blob.bin HTTP/1.1" 206 - Range: bytes=100-199$' "$TMPD/plain/access.log"
check "the log: a request without a range has none" grep -q '"GET /hello.txt HTTP/1.1" 200 -$' "$TMPD/plain/access.log"
check "the log: not the readiness probe" sh -c "! grep -q '\"HEAD / ' '$TMPD/plain/access.log'"
stop_all
check "--stop: the server is gone" test ! -e "$TMPD/plain/pid" -a ! -e "$TMPD/plain/port"
check "--stop: nothing answers" sh -c "! curl --noproxy '*' -s -o /dev/null '$URL/hello.txt'"

# --- a cut transfer, and curl resuming it ---
serve cut --cut-after "$CUT" || exit 1
URL="http://127.0.0.1:$PORT"
check "cut: the first GET fails as a partial file (curl 18)" \
	fails_with 18 get -f -o "$TMPD/part" "$URL/pool/blob.bin"
check "cut: $CUT bytes arrived" test "$(wc -c <"$TMPD/part")" -eq "$CUT"
bytes "$BLOB" 0 "$CUT" >"$TMPD/part.want"
check "cut: they are the file's first bytes" same "$TMPD/part" "$TMPD/part.want"
check "cut: the whole length was announced" \
	grep -q "\"GET /pool/blob.bin HTTP/1.1\" 200 -$" "$TMPD/cut/access.log"
check "cut: curl -C - completes it" get -f -C - -o "$TMPD/part" "$URL/pool/blob.bin"
check "cut: the resumed file is the file (sha256)" same_sum "$TMPD/part" "$BLOB"
check "cut: the resumption asked for the rest" \
	grep -q "\"GET /pool/blob.bin HTTP/1.1\" 206 - Range: bytes=$CUT-$" "$TMPD/cut/access.log"
get -f -o "$TMPD/again" "$URL/pool/blob.bin"
check "cut: a later GET of that path is whole" same_sum "$TMPD/again" "$BLOB"
check "cut: once per file, whatever the query" get -f -o "$TMPD/query" "$URL/pool/blob.bin?again"
check "cut: another file is cut on its own first GET" fails_with 18 get -f -o "$TMPD/cut-other" "$URL/pool/blob2.bin"
check "cut: a file shorter than the cut is whole" sh -c "curl --noproxy '*' -sf '$URL/hello.txt' | cmp -s - '$DOCS/hello.txt'"
stop_all

# --- a broken mirror ---
serve broken --status 503 || exit 1
URL="http://127.0.0.1:$PORT"
check "--status 503: GET answered 503" test "$(code "$URL/pool/blob.bin")" = 503
check "--status 503: HEAD answered 503" test "$(code -I "$URL/hello.txt")" = 503
check "--status 503: even a missing file" test "$(code "$URL/none")" = 503
check "--status 503: curl -f fails (22)" fails_with 22 get -f -o /dev/null "$URL/hello.txt"
stop_all
serve gone --status 404 || exit 1
check "--status 404: GET answered 404" test "$(code "http://127.0.0.1:$PORT/hello.txt")" = 404
stop_all

# --- a trickle, a mirror gone silent, a redirect ---
serve trickle --rate 4000 || exit 1
rc=0
get -f -m 2 -o "$TMPD/trickle.out" "http://127.0.0.1:$PORT/pool/blob.bin" 2>/dev/null || rc=$?
check "--rate 4000: two seconds are not enough (curl 28)" test "$rc" -eq 28
check "--rate 4000: bytes keep coming, about 8000 in 2 s" \
	sh -c "n=\$(wc -c <'$TMPD/trickle.out'); [ \$n -ge 4000 ] && [ \$n -le 12000 ]"
stop_all
serve silent --hang-after 5000 || exit 1
rc=0
get -f -m 2 -D "$TMPD/silent.h" -o "$TMPD/silent.out" "http://127.0.0.1:$PORT/pool/blob.bin" 2>/dev/null || rc=$?
check "--hang-after 5000: the transfer never ends (curl 28)" test "$rc" -eq 28
check "--hang-after 5000: 5000 bytes came, then nothing" test "$(wc -c <"$TMPD/silent.out")" -eq 5000
check "--hang-after: the whole length was announced" grep -qi "^Content-Length: $SIZE" "$TMPD/silent.h"
check "--hang-after: a file shorter than that is whole" \
	sh -c "curl --noproxy '*' -sf -m 5 'http://127.0.0.1:$PORT/hello.txt' | cmp -s - '$DOCS/hello.txt'"
stop_all
serve moved --redirect "http://localhost:1/base/" || exit 1
get -D "$TMPD/moved.h" -o /dev/null "http://127.0.0.1:$PORT/pool/blob.bin?x=1"
check "--redirect: 302" grep -q '^HTTP/1\.[01] 302' "$TMPD/moved.h"
check "--redirect: Location is the URL and the request's path" \
	grep -q '^Location: http://localhost:1/base/pool/blob.bin?x=1' "$TMPD/moved.h"
stop_all

# --- HTTPS ---
CA="$TMPD/ca"
check "make-test-ca: makes the set" "$srcdir/tests/pkg/make-test-ca" "$CA"
for f in ca.pem ca.key server.pem server.key other-ca.pem; do
	check "make-test-ca: $f" test -s "$CA/$f"
done
cp "$CA/server.pem" "$TMPD/server.pem.1"
"$srcdir/tests/pkg/make-test-ca" "$CA" >"$TMPD/ca.out" 2>&1
check "make-test-ca: a second run keeps the set, quietly" sh -c "cmp -s '$CA/server.pem' '$TMPD/server.pem.1' && test ! -s '$TMPD/ca.out'"
check "make-test-ca: a key is for its owner only" test "$(stat -c %a "$CA/server.key")" = 600

serve tls --tls "$CA/server.pem" "$CA/server.key" || exit 1
URL="https://127.0.0.1:$PORT"
get -f --cacert "$CA/ca.pem" -o "$TMPD/tls-hello" "$URL/hello.txt"
check "TLS: GET with --cacert ca.pem" same "$TMPD/tls-hello" "$DOCS/hello.txt"
get -f --cacert "$CA/ca.pem" -o "$TMPD/tls-localhost" "https://localhost:$PORT/hello.txt"
check "TLS: the name localhost verifies too" same "$TMPD/tls-localhost" "$DOCS/hello.txt"
get -f --cacert "$CA/ca.pem" -o "$TMPD/tls-blob" "$URL/pool/blob.bin"
check "TLS: 3 MiB, the file as it is" same_sum "$TMPD/tls-blob" "$BLOB"
get -f --cacert "$CA/ca.pem" -r 100-199 -o "$TMPD/tls-range" "$URL/pool/blob.bin"
check "TLS: a range" same "$TMPD/tls-range" "$TMPD/range.want"
check "TLS: refused with --cacert other-ca.pem (curl 60)" \
	fails_with 60 get -f --cacert "$CA/other-ca.pem" -o /dev/null "$URL/hello.txt"
check "TLS: the refused request never reached HTTP" sh -c "test \$(grep -c 'GET /hello.txt' '$TMPD/tls/access.log') -eq 2"
check "TLS: the server lives on after a refusal" get -f --cacert "$CA/ca.pem" -o /dev/null "$URL/hello.txt"
check "TLS: plain HTTP is not spoken" sh -c "! curl --noproxy '*' -sf -o /dev/null 'http://127.0.0.1:$PORT/hello.txt'"
stop_all

serve tls-cut --tls "$CA/server.pem" "$CA/server.key" --cut-after "$CUT" || exit 1
URL="https://127.0.0.1:$PORT"
rm -f "$TMPD/part"
check "TLS cut: the first GET fails as a partial file" \
	fails_with 18 get -f --cacert "$CA/ca.pem" -o "$TMPD/part" "$URL/pool/blob.bin"
check "TLS cut: curl -C - completes it to the file (sha256)" \
	sh -c "curl --noproxy '*' -sSf --cacert '$CA/ca.pem' -C - -o '$TMPD/part' '$URL/pool/blob.bin' && test \"\$(sha256sum <'$TMPD/part')\" = \"\$(sha256sum <'$BLOB')\""
stop_all

# --- what it refuses ---
check "a bad option: usage, exit 2" fails_with 2 "$SERVE" --bogus "$DOCS" "$TMPD/bad"
check "--status out of range: exit 2" fails_with 2 "$SERVE" --status 42 "$DOCS" "$TMPD/bad"
check "--redirect to something not http(s): exit 2" fails_with 2 "$SERVE" --redirect ftp://x "$DOCS" "$TMPD/bad"
check "--tls without its key: exit 2" fails_with 2 "$SERVE" --tls "$CA/server.pem" "$DOCS"
check "--tls with a missing certificate: exit 1, no server" \
	sh -c "! '$SERVE' --tls '$TMPD/none.pem' '$CA/server.key' '$DOCS' '$TMPD/bad' 2>/dev/null && test ! -e '$TMPD/bad/pid'"

done_testing
