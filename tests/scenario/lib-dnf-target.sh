# Shared by the tests that apply to a dnf target: a createrepo_c repository of RPMs built
# from the HGX A100's Rocky 9 repository view (with NVIDIA's module stream for branch 535),
# and installroots laid out as that machine's OS. The hardware comes through --sysroot.
# Sourced after lib.sh; sets MACHINE and REPO, defines new_target, gp, installed, has.

MACHINE="$srcdir/tests/machines/hgx-a100-rocky9/root"
REPO="$TMPD/repo"
PATH=$PATH:/usr/sbin:/sbin

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

[ "$(id -u)" -eq 0 ] || skip_all "needs root (rpm database in the installroot)"
[ "$(uname -m)" = x86_64 ] || skip_all "the fake machine's kernels are x86_64"
for tool in dnf rpmbuild createrepo_c; do
	command -v "$tool" >/dev/null 2>&1 || skip_all "$tool not found"
done
# streams VERSION...: module metadata with NVIDIA's stream for branch 535's DKMS driver
# (nvidia-driver:535-dkms) holding these versions; the other branches stay outside.
streams() {
	printf -- '---\ndocument: modulemd\nversion: 2\ndata:\n  name: nvidia-driver\n  stream: "535-dkms"\n'
	printf '  version: 1\n  context: "00000001"\n  arch: x86_64\n  summary: NVIDIA driver 535, DKMS\n'
	printf '  description: NVIDIA driver branch 535 with DKMS kernel modules.\n  license:\n    module: [MIT]\n'
	printf '  profiles:\n    default:\n      rpms: [nvidia-driver, kmod-nvidia-latest-dkms]\n  artifacts:\n    rpms:\n'
	for v in "$@"; do
		printf '    - nvidia-driver-0:%s-1.el9.x86_64\n    - kmod-nvidia-latest-dkms-0:%s-1.el9.x86_64\n' "$v" "$v"
	done
	printf '...\n'
}
streams 535.129.03 535.216.01 >"$TMPD/modules.yaml"
"$srcdir/tests/pkg/make-rpm-repo" --modules "$TMPD/modules.yaml" "$REPO" "$MACHINE/var/lib/gpuprov/repo.json" \
	>"$TMPD/repo.log" 2>&1 || { cat "$TMPD/repo.log" >&2; exit 1; }

# A target: the installroot skeleton, then the node before gpuprov (running kernel, the
# toolkit the machine has).
new_target() {
	"$srcdir/tests/pkg/dnf-root" "$1" "$REPO" "$MACHINE/etc/os-release" >/dev/null
	dnf --installroot="$1" --releasever=9 -y -q install kernel-5.14.0-362.8.1.el9_3 cuda-toolkit-12-2-12.2.2-1 \
		>"$TMPD/before.log" 2>&1 || { cat "$TMPD/before.log" >&2; exit 1; }
}

# a100_stack: the packages a100-stable must install on the HGX A100, "name version" a line,
# from the machine's repository view (tests/pkg/make-rpm-repo builds every entry at its
# version) and the profile's rules:
# - kernel series 5.14 (the rhel override): the view has 5.14.0-362.8.1, -427.13.1 and
#   -503.14.1, and the newest is taken, with its kernel-devel for the DKMS module;
# - driver branch 535, at least 535.129.03: 535.129.03 and 535.216.01 are offered (both in
#   the 535-dkms module stream), the newer is taken: nvidia-driver, the proprietary DKMS
#   module (kmod-nvidia-latest-dkms) and nvidia-persistenced (base enables it), all
#   535.216.01-1.el9;
# - CUDA 12.2: cuda-toolkit-12-2 12.2.2-1, the only 12.2 (already on the node);
# - the fabric manager (NVSwitches) at exactly the driver's version: 535.216.01-1.
# - the container toolkit (the profile's container section, latest-for-driver): NVIDIA's
#   toolkit repository offers 1.17.8, 1.18.1 and 1.20.0, none named by a bulletin nor with a
#   driver floor above 535.216.01: the newest, 1.20.0, its four packages in the order they install.
a100_stack() {
	cat <<-EOF
	kernel 5.14.0-503.14.1.el9_5
	nvidia-driver 535.216.01-1.el9
	kmod-nvidia-latest-dkms 535.216.01-1.el9
	nvidia-persistenced 535.216.01-1.el9
	kernel-devel 5.14.0-503.14.1.el9_5
	cuda-toolkit-12-2 12.2.2-1
	nvidia-fabric-manager 535.216.01-1
	libnvidia-container1 1.20.0-1
	libnvidia-container-tools 1.20.0-1
	nvidia-container-toolkit-base 1.20.0-1
	nvidia-container-toolkit 1.20.0-1
	EOF
}

gp() {
	root=$1
	shift
	gpuprov --root "$root" --sysroot "$MACHINE" --profiles "$srcdir/profiles" "$@"
}

installed() {
	rpm --root "$1" -qa --qf '%{NAME}-%{VERSION}-%{RELEASE}\n' | sort
}

has() {
	rpm --root "$1" -q "$2" >/dev/null 2>&1
}

