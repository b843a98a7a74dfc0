#!/bin/sh
# Module options the knowledge says break a flavour of the kernel modules
# (NVreg_EnableGpuFirmware=0 with the open modules): "auto" takes the other flavour, "open"
# is refused with the reason and its source.
. "$srcdir/tests/scenario/lib.sh"

machine=$srcdir/tests/machines/dgx-h100/root
P="$TMPD/profiles"
mkdir -p "$P"
cp "$srcdir"/profiles/*.json "$P/"
for flavour in auto open; do
	cat >"$P/no-gsp-$flavour.json" <<EOF2
{ "name": "no-gsp-$flavour", "include": ["h100-nvlink"], "driver": { "flavour": "$flavour" },
  "modprobe": { "options": { "nvidia": { "NVreg_EnableGpuFirmware": 0 } } } }
EOF2
done
export GPUPROV_TODAY=2026-11-21

rc=0
gpuprov --root "$machine" --profiles "$P" plan no-gsp-auto --json >"$TMPD/auto.json" 2>"$TMPD/auto.err" || rc=$?
check "flavour auto with GSP off: planned" test "$rc" -eq 0
check_json "flavour auto with GSP off: the proprietary modules" '.stack.flavour == "proprietary"' "$TMPD/auto.json"
check_json "flavour auto with GSP off: the modules package is not the open one" \
	'[.stack.packages[] | select(.role == "modules") | .name | test("-open")] | any | not' "$TMPD/auto.json"
check "the option is written as asked" sh -c "jq -r '.actions[] | select(.target == \"/etc/modprobe.d/gpuprov.conf\") | .detail' '$TMPD/auto.json' | grep -q 'options nvidia NVreg_EnableGpuFirmware=0'"

rc=0
gpuprov --root "$machine" --profiles "$P" plan no-gsp-open >"$TMPD/open.out" 2>"$TMPD/open.err" || rc=$?
check "flavour open with GSP off: refused with exit 3" test "$rc" -eq 3
check "the refusal says why, with its source" grep -q "NVreg_EnableGpuFirmware=0 breaks the open kernel modules: .*open-gpu-kernel-modules#820" "$TMPD/open.out"

done_testing
