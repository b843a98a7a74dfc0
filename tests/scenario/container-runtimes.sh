#!/bin/sh
# The container runtimes given the nvidia runtime: containerd's drop-in merged by Debian's own
# containerd (config dump), an admin's config.toml without the import (a warning with the line
# to add, never an edit), cri-o's drop-in read as TOML, docker's daemon.json merged key by key
# and reverted key by key, a daemon.json that is not JSON or that gives one of gpuprov's keys
# another value refused with nothing changed, restarts planned only for the runtimes
# installed, and check's findings each way. Plans on a copy of the DGX H100 fake machine;
# apply and revert on the apt target of lib-apt-target.sh. Debian 12's dockerd (docker.io
# 20.10) has no --validate (docker 23 added it): daemon.json is read with jq here.
. "${srcdir}/tests/scenario/lib.sh"
. "${srcdir}/tests/scenario/lib-apt-target.sh"

# Tools this test cannot do without: where CI runs it, their absence is a failure.
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "${CI:-}" = true ]; then
		echo "Bail out! $1 not found: scripts/install-deps installs $2"
		exit 1
	fi
	skip_all "$1 not found (package $2)"
}
need containerd containerd
need python3 python3
python3 -c 'import tomllib' 2>/dev/null || skip_all "python3 has no tomllib (Python 3.11 or later)"

export GPUPROV_TODAY=2026-11-21
P=$TMPD/profiles
mkdir -p "$P"
cp "$srcdir"/profiles/*.json "$P/"
# ctr: the DGX H100's profile with every runtime but podman, nvidia the default. ctr-keep:
# the running kernel kept and no blacklist, so that no reboot follows the plan.
cat >"$P/ctr.json" <<'EOF'
{ "$schema": "gpuprov-profile.schema.json", "name": "ctr", "description": "h100-nvlink, containers",
  "include": ["h100-nvlink"],
  "container": { "runtimes": ["docker", "containerd", "crio"], "default_runtime": true } }
EOF
cat >"$P/ctr-keep.json" <<'EOF'
{ "$schema": "gpuprov-profile.schema.json", "name": "ctr-keep", "description": "no reboot, containers",
  "kernel": { "release": "5.15.0-105-generic" }, "driver": { "min_branch": "550", "flavour": "open" },
  "container": { "runtimes": ["docker", "containerd", "crio"], "default_runtime": true } }
EOF
DROPIN=etc/containerd/conf.d/99-gpuprov-nvidia.toml
CRIO=etc/crio/crio.conf.d/99-gpuprov-nvidia.conf
DJ=etc/docker/daemon.json
# Debian's containerd package's own config.toml: version 2, no imports.
DEBIAN_TOML=/etc/containerd/config.toml

# --- plans on a plain copy of the DGX H100, its driver not loaded: no reboot follows ---
M=$TMPD/m
cp -a "$srcdir/tests/machines/dgx-h100/root" "$M"
chmod -R u+w "$M"
sed -i '/^nvidia/d' "$M/proc/modules"
offer_ctk "$M" 1.18.1
# unit NAME...: the runtimes' units installed in the root, as their packages ship them.
unit() {
	mkdir -p "$M/lib/systemd/system"
	for u in "$@"; do
		printf '[Service]\nExecStart=/usr/bin/%s\n' "$u" >"$M/lib/systemd/system/$u.service"
	done
}
# mplan PROFILE NAME: plan --json on $M into $TMPD/NAME.json, its exit status in rc.
mplan() {
	rc=0
	gpuprov --root "$M" --profiles "$P" plan "$1" --json >"$TMPD/$2.json" 2>"$TMPD/$2.err" || rc=$?
}
# planned FILE NAME: the content plan gives the managed file at /FILE, from its diff.
planned() {
	jq -r --arg f "/$1" '.actions[] | select(.action == "file" and .target == $f) | .detail' "$TMPD/$2.json" |
		sed -n 's/^[+ ]//p'
}

unit containerd
mplan ctr-keep only-containerd
check "ctr-keep plans without a reboot (exit 0)" test "$rc" -eq 0
check_json "no reboot follows" '.reboot_required == false' "$TMPD/only-containerd.json"
check_json "containerd installed: its restart, and none for docker or crio" \
	'[.actions[] | select(.action == "restart") | .target] == ["containerd.service"]' "$TMPD/only-containerd.json"
check_json "the restart says running containers keep running" \
	'.actions[] | select(.action == "restart") | .reason | test("99-gpuprov-nvidia.toml changed.*containers keep running")' \
	"$TMPD/only-containerd.json"
check_json "no config.toml: gpuprov writes one, version 2 and the import only" \
	'.actions[] | select(.action == "file" and .target == "/etc/containerd/config.toml") | .detail | test("version = 2\n\\+imports = \\[\"/etc/containerd/conf.d/\\*.toml\"\\]")' \
	"$TMPD/only-containerd.json"

# Both files as plan gives them, read by containerd: its defaults kept (the runc runtime,
# the overlayfs snapshotter), the nvidia runtime added and made the default. The import
# names the node's /etc: here it is pointed at the copy's.
mkdir -p "$TMPD/plain/conf.d"
planned etc/containerd/config.toml only-containerd | sed "s|\"/etc/containerd/|\"$TMPD/plain/|" >"$TMPD/plain/config.toml"
containerd --config "$TMPD/plain/config.toml" config dump >"$TMPD/dump-before.toml" 2>"$TMPD/dump.err"
check "containerd reads gpuprov's config.toml" test -s "$TMPD/dump-before.toml"
check "without the drop-in, no nvidia runtime" sh -c "! grep -q 'runtimes.nvidia' '$TMPD/dump-before.toml'"
planned "$DROPIN" only-containerd >"$TMPD/plain/conf.d/99-gpuprov-nvidia.toml"
containerd --config "$TMPD/plain/config.toml" config dump >"$TMPD/dump-plain.toml" 2>"$TMPD/dump.err"
check "with it: the nvidia runtime, runc.v2 running nvidia-container-runtime" python3 -c '
import sys, tomllib
c = tomllib.load(open(sys.argv[1], "rb"))["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]
n = c["runtimes"]["nvidia"]
assert n["runtime_type"] == "io.containerd.runc.v2", n
assert n["options"]["BinaryName"] == "/usr/bin/nvidia-container-runtime", n
assert c["default_runtime_name"] == "nvidia", c["default_runtime_name"]
assert "runc" in c["runtimes"], c["runtimes"].keys()
' "$TMPD/dump-plain.toml"
check "containerd's other defaults are kept (snapshotter overlayfs)" grep -q 'snapshotter = "overlayfs"' "$TMPD/dump-plain.toml"

# cri-o's drop-in, read as TOML.
planned "$CRIO" only-containerd >"$TMPD/crio.conf"
check "cri-o's drop-in: the nvidia runtime (oci, nvidia-container-runtime), the default" python3 -c '
import sys, tomllib
r = tomllib.load(open(sys.argv[1], "rb"))["crio"]["runtime"]
assert r["default_runtime"] == "nvidia", r
assert r["runtimes"]["nvidia"] == {"runtime_path": "/usr/bin/nvidia-container-runtime", "runtime_type": "oci"}, r
' "$TMPD/crio.conf"

# docker installed too, its daemon.json without live-restore; cri-o's unit still absent.
unit containerd docker
mkdir -p "$M/etc/docker"
printf '{ "log-driver": "journald" }\n' >"$M/$DJ"
mplan ctr-keep docker
check_json "containerd and docker installed: both restarted, not crio" \
	'[.actions[] | select(.action == "restart") | .target] == ["containerd.service", "docker.service"]' "$TMPD/docker.json"
check_json "docker's restart says it stops the running containers, live-restore being off" \
	'.actions[] | select(.target == "docker.service") | .reason | test("stops every running container \\(live-restore is not on")' \
	"$TMPD/docker.json"
printf '{ "log-driver": "journald", "live-restore": true }\n' >"$M/$DJ"
mplan ctr-keep live
check_json "with live-restore on, it says the containers keep running" \
	'.actions[] | select(.target == "docker.service") | .reason | test("live-restore is on")' "$TMPD/live.json"

# An admin's config.toml without the import (Debian's own): never edited; the plan warns
# with the exact line, and no restart of containerd would read anything new.
mkdir -p "$M/etc/containerd"
cp "$DEBIAN_TOML" "$M/etc/containerd/config.toml"
cp "$M/etc/containerd/config.toml" "$TMPD/admin.toml"
mplan ctr-keep noimport
check "config.toml without the import: planned all the same (exit 0)" test "$rc" -eq 0
check_json "the plan warns with the line to add" \
	'any(.warnings[]; test("/etc/containerd/config.toml does not import /etc/containerd/conf.d/\\*.toml.*add the line imports = \\[\"/etc/containerd/conf.d/\\*.toml\"\\] at its top"))' \
	"$TMPD/noimport.json"
check_json "config.toml is not among the files written" \
	'all(.actions[]; .target != "/etc/containerd/config.toml")' "$TMPD/noimport.json"
check_json "and containerd is not restarted" 'all(.actions[]; .target != "containerd.service")' "$TMPD/noimport.json"
gpuprov --root "$M" --profiles "$P" plan ctr-keep >"$TMPD/noimport.txt" 2>/dev/null
check "the text plan says it among the warnings" sh -c \
	"sed -n '/^Warnings:/,/^Actions:/p' '$TMPD/noimport.txt' | grep -q 'add the line imports'"
# Its version is followed: a containerd 2.x config (version 3) gets a version 3 drop-in.
sed -i 's/^version = 2/version = 3/' "$M/etc/containerd/config.toml"
mplan ctr-keep v3
check "a version 3 config.toml: a version 3 drop-in in the runtime plugin of containerd 2.x" python3 -c '
import sys, tomllib
d = tomllib.loads(sys.stdin.read())
assert d["version"] == 3, d
c = d["plugins"]["io.containerd.cri.v1.runtime"]["containerd"]
assert c["runtimes"]["nvidia"]["options"]["BinaryName"] == "/usr/bin/nvidia-container-runtime", c
assert c["default_runtime_name"] == "nvidia", c
' <<EOF
$(planned "$DROPIN" v3)
EOF
cp "$TMPD/admin.toml" "$M/etc/containerd/config.toml"

# --- check: the runtimes installed beside the toolkit's runtime ---
# mcheck NAME: check --json on $M into $TMPD/NAME.json.
mcheck() {
	gpuprov --root "$M" --profiles "$P" check --json >"$TMPD/$1.json" 2>"$TMPD/$1.err" || true
}
unit containerd docker crio
mcheck no-toolkit
check_json "without nvidia-container-runtime in the root, no runtime finding" \
	'all(.findings[]; .id != "runtime-no-nvidia" and .id != "containerd-no-import")' "$TMPD/no-toolkit.json"
mkdir -p "$M/usr/bin"
printf '#!/bin/sh\n' >"$M/usr/bin/nvidia-container-runtime"
mcheck bare
check_json "with it: each of containerd, docker, crio has no nvidia runtime" \
	'[.findings[] | select(.id == "runtime-no-nvidia") | .message | capture("runtime (?<r>[a-z]+) is installed").r] == ["containerd", "crio", "docker"]' \
	"$TMPD/bare.json"
mkdir -p "$M/etc/containerd/conf.d" "$M/etc/crio/crio.conf.d"
planned "$DROPIN" noimport >"$M/$DROPIN"
planned "$CRIO" noimport >"$M/$CRIO"
printf '{ "runtimes": { "nvidia": { "path": "nvidia-container-runtime" } } }\n' >"$M/$DJ"
mcheck dropins
check_json "the drop-in without the import: containerd's config does not import conf.d, with the line" \
	'any(.findings[]; .id == "containerd-no-import" and (.message | test("add the line imports = \\[\"/etc/containerd/conf.d/\\*.toml\"\\]")))' \
	"$TMPD/dropins.json"
check_json "and containerd still has no nvidia runtime; crio and docker have theirs" \
	'[.findings[] | select(.id == "runtime-no-nvidia") | .message] == ["runtime containerd is installed and has no nvidia runtime: /etc/containerd/config.toml does not import /etc/containerd/conf.d/99-gpuprov-nvidia.toml"]' \
	"$TMPD/dropins.json"
sed -i '1a imports = ["/etc/containerd/conf.d/*.toml"]' "$M/etc/containerd/config.toml"
mcheck imported
check_json "the import added: no runtime finding left" \
	'all(.findings[]; .id != "runtime-no-nvidia" and .id != "containerd-no-import")' "$TMPD/imported.json"

# --- apply and revert on the apt target ---
apt_target linux-image-5.15.0-105-generic=5.15.0-105.115 linux-modules-5.15.0-105-generic=5.15.0-105.115 linux-generic
target_publish_ctk 1.18.1
target_keep
ga() {
	gpuprov --root "$CH" --sysroot "$MACHINE" --profiles "$P" "$@"
}
# admin_target: a fresh node whose admin wrote daemon.json and a containerd config.toml
# that imports conf.d (Debian's, with the line the warning gives).
admin_target() {
	target_fresh
	mkdir -p "$CH/etc/docker" "$CH/etc/containerd"
	cat >"$CH/$DJ" <<-'EOF'
	{
	  "log-driver": "journald",
	  "registry-mirrors": ["https://mirror.example.org"],
	  "live-restore": true,
	  "features": { "buildkit": true }
	}
	EOF
	chmod 0640 "$CH/$DJ"
	cp "$CH/$DJ" "$TMPD/admin.json"
	sed '1a imports = ["/etc/containerd/conf.d/*.toml"]' "$DEBIAN_TOML" >"$CH/etc/containerd/config.toml"
}
# dump NAME: containerd's merged configuration of the node, its import pointed into $CH.
dump() {
	sed "s|\"/etc/containerd/|\"$CH/etc/containerd/|" "$CH/etc/containerd/config.toml" >"$TMPD/$1-config.toml"
	containerd --config "$TMPD/$1-config.toml" config dump >"$TMPD/$1.toml" 2>"$TMPD/$1.err"
}

admin_target
# The node's containerd and docker units: the kernel switch's reboot follows, and it is
# what makes them read their new configuration.
mkdir -p "$CH/lib/systemd/system"
printf '[Service]\nExecStart=/usr/bin/containerd\n' >"$CH/lib/systemd/system/containerd.service"
printf '[Service]\nExecStart=/usr/bin/dockerd\n' >"$CH/lib/systemd/system/docker.service"
ga plan ctr --json >"$TMPD/first.json" 2>"$TMPD/first.err"
check_json "a reboot follows: no restart is planned" \
	'.reboot_required and all(.actions[]; .action != "restart")' "$TMPD/first.json"
check_json "the drop-in's reason says containerd reads it at the reboot" \
	'.actions[] | select(.target == "/etc/containerd/conf.d/99-gpuprov-nvidia.toml") | .reason | test("containerd.service reads it at the reboot that follows, so no restart is planned")' \
	"$TMPD/first.json"
dump before
check "before apply containerd reads the node's config" test -s "$TMPD/before.toml"
check "and it has no nvidia runtime" sh -c "! grep -q 'runtimes.nvidia' '$TMPD/before.toml'"
rc=0
ga apply ctr --yes --json >"$TMPD/apply.json" 2>"$TMPD/apply.err" || rc=$?
check "apply ctr exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/apply.err"
dump after
check "after apply containerd's config dump has the nvidia runtime, the default" python3 -c '
import sys, tomllib
c = tomllib.load(open(sys.argv[1], "rb"))["plugins"]["io.containerd.grpc.v1.cri"]
assert c["containerd"]["runtimes"]["nvidia"]["options"]["BinaryName"] == "/usr/bin/nvidia-container-runtime"
assert c["containerd"]["default_runtime_name"] == "nvidia"
assert c["cni"]["bin_dir"] == "/usr/lib/cni", c["cni"]
' "$TMPD/after.toml"
check "the admin's config.toml is as it was" sh -c \
	"sed '1a imports = [\"/etc/containerd/conf.d/*.toml\"]' '$DEBIAN_TOML' | cmp - '$CH/etc/containerd/config.toml'"
check "daemon.json: the admin's keys kept, gpuprov's added" jq -e --slurpfile a "$TMPD/admin.json" \
	'. == ($a[0] * {"runtimes": {"nvidia": {"path": "nvidia-container-runtime", "args": []}}, "default-runtime": "nvidia", "features": {"cdi": true}})' \
	"$CH/$DJ"
check "daemon.json keeps its mode 0640" test "$(stat -c %a "$CH/$DJ")" = 640
check_json "the record of gpuprov's keys names only them" \
	'.created == false and [.keys[].path] == [["runtimes", "nvidia"], ["default-runtime"], ["features", "cdi"]]' \
	"$CH/var/lib/gpuprov/backup/$DJ.keys"
check "no whole-file backup of daemon.json is kept" test ! -e "$CH/var/lib/gpuprov/backup/$DJ"

rc=0
ga plan ctr --json >"$TMPD/again.json" 2>"$TMPD/again.err" || rc=$?
check_json "a second plan changes none of the runtimes' files" \
	'all(.actions[]; (.target | test("containerd|crio|docker")) | not)' "$TMPD/again.json"

# The admin adds a key after apply; revert takes out only gpuprov's keys.
jq '. + {"debug": true}' "$CH/$DJ" >"$TMPD/edited.json" && cat "$TMPD/edited.json" >"$CH/$DJ"
rc=0
ga revert >"$TMPD/revert.out" 2>&1 || rc=$?
check "revert exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag_file "$TMPD/revert.out"
check "revert says it took gpuprov's keys out of daemon.json" grep -q "took gpuprov's keys out of /$DJ" "$TMPD/revert.out"
check "daemon.json is the admin's again, with the key added since" jq -e --slurpfile a "$TMPD/admin.json" \
	'. == ($a[0] + {"debug": true})' "$CH/$DJ"
check "the drop-ins are gone" sh -c "test ! -e '$CH/$DROPIN' && test ! -e '$CH/$CRIO'"
check "and the record of the keys" test ! -e "$CH/var/lib/gpuprov/backup/$DJ.keys"

# A daemon.json that is not JSON: refused before any change, naming the file and the line.
admin_target
printf '{\n  "log-driver": "journald",\n}\n' >"$CH/$DJ"
cp "$CH/$DJ" "$TMPD/bad.json"
rc=0
ga apply ctr --yes >"$TMPD/bad.out" 2>&1 || rc=$?
check "an invalid daemon.json: apply exits 3" test "$rc" -eq 3
check "it names the file and the line, 3, where the object ends after a comma" \
	grep -q "/$DJ:3:[0-9]*: not valid JSON" "$TMPD/bad.out"
check "daemon.json is as it was" cmp "$TMPD/bad.json" "$CH/$DJ"
check "nothing was written: no drop-in, no journal" sh -c \
	"test ! -e '$CH/$DROPIN' && test ! -e '$CH/var/lib/gpuprov/journal.json'"

# An admin's default-runtime of its own: not overwritten, refused with both values.
admin_target
jq '. + {"default-runtime": "runc"}' "$TMPD/admin.json" >"$CH/$DJ"
cp "$CH/$DJ" "$TMPD/runc.json"
rc=0
ga apply ctr --yes >"$TMPD/runc.out" 2>&1 || rc=$?
check "default-runtime runc while the profile wants nvidia: apply exits 3" test "$rc" -eq 3
check "it names the key, the admin's value and the profile's" \
	grep -q "/$DJ: default-runtime is \"runc\", not gpuprov's, and the profile wants \"nvidia\"" "$TMPD/runc.out"
check "daemon.json is as it was" cmp "$TMPD/runc.json" "$CH/$DJ"

done_testing
