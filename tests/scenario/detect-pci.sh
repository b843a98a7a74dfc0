#!/bin/sh
# detect's PCI reads on a changed dgx-h100: SR-IOV virtual functions are not devices of
# their own, a device without a readable uevent is read from its attribute files, and an
# attribute that is a symlink is followed inside the root, never out of it.
. "$srcdir/tests/scenario/lib.sh"

m=$TMPD/root
cp -a "$srcdir/tests/machines/dgx-h100/root" "$m"
devs=$m/sys/bus/pci/devices
hca=$(readlink -f "$devs/0000:19:00.0")
gpu=$(readlink -f "$devs/0000:18:00.0")
gpu2=$(readlink -f "$devs/0000:2a:00.0")

gpuprov --root "$srcdir/tests/machines/dgx-h100/root" detect --json >"$TMPD/before.json"

# Two virtual functions beside the first HCA, as the kernel lays them out: physfn names the
# physical function, relative to the virtual one.
for vf in 0000:19:01.0 0000:19:01.1; do
	mkdir "$(dirname "$hca")/$vf"
	printf 'DRIVER=mlx5_core\nPCI_CLASS=20700\nPCI_ID=15B3:101E\nPCI_SUBSYS_ID=15B3:0061\n' \
		>"$(dirname "$hca")/$vf/uevent"
	ln -s ../0000:19:00.0 "$(dirname "$hca")/$vf/physfn"
	ln -s "$(realpath --relative-to="$devs" "$(dirname "$hca")/$vf")" "$devs/$vf"
done

# The first GPU without its uevent: vendor, device, class, subsystem and driver come from
# their own files and link.
rm "$gpu/uevent"

# The second GPU's numa_node a link to a file elsewhere inside the root; the first's a link
# to a host path that exists outside the root only.
mkdir -p "$TMPD/outside"
echo 7 >"$TMPD/outside/numa_node"
echo 1 >"$m/etc/numa-node"
rm "$gpu2/numa_node" "$gpu/numa_node"
ln -s /etc/numa-node "$gpu2/numa_node"
ln -s "$TMPD/outside/numa_node" "$gpu/numa_node"

if gpuprov --root "$m" detect --json >"$TMPD/after.json" 2>"$TMPD/err"; then
	ok "detect exits 0"
else
	not_ok "detect failed"
	diag_file "$TMPD/err"
fi

check "the virtual functions are counted as PCI functions" \
	test "$(jq .pci.devices "$TMPD/after.json")" -eq "$(($(jq .pci.devices "$TMPD/before.json") + 2))"
check "the virtual functions are no HCAs of their own" \
	test "$(jq '.pci.hcas | length' "$TMPD/after.json")" -eq "$(jq '.pci.hcas | length' "$TMPD/before.json")"
check_json "the first HCA keeps its RDMA port and its net device" \
	'.pci.hcas[0] | .address == "0000:19:00.0" and .rdma[0].ports[0].state == "ACTIVE" and .netdevs == ["ibp25s0"]' \
	"$TMPD/after.json"

jq '.pci.gpus[0] | del(.numa_node)' "$TMPD/before.json" >"$TMPD/gpu.before"
jq '.pci.gpus[0] | del(.numa_node)' "$TMPD/after.json" >"$TMPD/gpu.after"
check "a GPU without uevent: the same ids, subsystem and driver from its attribute files" \
	cmp "$TMPD/gpu.before" "$TMPD/gpu.after"
check_json "an attribute linked inside the root is read through the link" \
	'.pci.gpus[1].numa_node == 1' "$TMPD/after.json"
check_json "an attribute linked out of the root is not read from the host (numa_node unknown)" \
	'.pci.gpus[0] | has("numa_node") and .numa_node == null' "$TMPD/after.json"

done_testing
