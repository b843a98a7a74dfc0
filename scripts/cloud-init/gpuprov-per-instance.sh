#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# gpuprov from cloud-init without a cloud-config: copy to
# /var/lib/cloud/scripts/per-instance/ (mode 0755) on an image with gpuprov installed.
# cloud-init runs it once per instance, in cloud-final. It applies the GPU profile and, when
# gpuprov says the new kernel needs a reboot, reboots once cloud-init is done; after the
# reboot gpuprov-verify.service commits the new kernel or goes back. See gpuprov(8), CLOUD-INIT.
#
# The profile, the first set of: the first argument; $GPUPROV_PROFILE; the instance metadata
# key gpuprov_profile (`cloud-init query ds.meta_data.gpuprov_profile`, then
# ds.meta_data.meta.gpuprov_profile, as OpenStack puts it); h100-nvlink.
#
# Exit status: 0 when apply succeeded (changed or not, reboot or not), else apply's
# (1 failed, 2 bad usage or input, 3 refused with nothing changed), so that cloud-init's
# status shows the failure. apply's own exit code is kept in $GPUPROV_RUNDIR/cloud-init.rc
# (default /run/gpuprov), as the cloud-config example does.
set -u

rundir=${GPUPROV_RUNDIR:-/run/gpuprov}

say() {
	printf 'gpuprov-per-instance: %s\n' "$*"
}

metadata() {
	v=$(cloud-init query "$1" 2>/dev/null) || return 1
	[ -n "$v" ] || return 1
	printf '%s\n' "$v"
}

profile=${1:-${GPUPROV_PROFILE:-}}
[ -n "$profile" ] || profile=$(metadata ds.meta_data.gpuprov_profile) ||
	profile=$(metadata ds.meta_data.meta.gpuprov_profile) || profile=h100-nvlink

case "$profile" in
-* | *[!A-Za-z0-9._-]*)
	say "'$profile' is not a profile name (letters, digits, '.', '_', '-')" >&2
	exit 2
	;;
esac

mkdir -p "$rundir" || exit 1
say "running: gpuprov apply $profile --yes --detailed-exitcodes"
gpuprov apply "$profile" --yes --detailed-exitcodes
rc=$?
echo "$rc" >"$rundir/cloud-init.rc"

case $rc in
0)
	say "profile $profile: nothing to change"
	;;
4)
	say "profile $profile applied; no reboot needed"
	;;
5)
	# Not now: cloud-final is still running. A transient unit ordered after it reboots
	# once cloud-init has finished (--no-block: waiting for it here would wait for ourselves).
	say "profile $profile applied; rebooting into the new kernel once cloud-init is done"
	systemd-run --no-block --unit=gpuprov-cloud-init-reboot \
		--description="Reboot into the kernel gpuprov applied" \
		--property=After=cloud-final.service systemctl reboot || {
		say "cannot arrange the reboot; reboot by hand" >&2
		exit 1
	}
	;;
*)
	say "gpuprov apply exited $rc" >&2
	exit "$rc"
	;;
esac
exit 0
