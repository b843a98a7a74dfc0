#!/bin/sh
# The index of apt's lists under var/cache/gpuprov: kept only where that directory is there
# and gpuprov's own; a plan read through it is the plan read from the lists; it is used (a
# later plan does not read the lists again); it goes stale when a list is replaced, added or
# removed; one that is damaged, not gpuprov's own, or a link is not used and is written anew.
. "$srcdir/tests/scenario/lib.sh"
. "$srcdir/tests/scenario/lib-lists.sh"

IDX=var/cache/gpuprov/repo-view.idx

# edit_in_place FILE: the fabric manager's packages renamed inside FILE, which keeps its
# inode, size and modification time: to apt's and gpuprov's eyes the same list.
edit_in_place() {
	mtime=$(stat -c %.9Y "$1")
	sed 's/^Package: nvidia-fabricmanager-/Package: xvidia-fabricmanager-/' "$1" >"$TMPD/edited"
	cat "$TMPD/edited" >"$1"
	touch -d "@$mtime" "$1"
}

tree() { (cd "$1" && find . -printf '%p %m %s\n' | sort); }

lists_base
base=$TMPD/base
cp -a "$base" "$TMPD/edited-root"
edit_in_place "$TMPD/edited-root/$LISTS/$NV"
plan_json "$TMPD/edited-root" "$TMPD/edited.json"
differ "with the fabric manager renamed in $NV the plan differs" "$TMPD/plain.json" "$TMPD/edited.json"

# A tree without var/cache/gpuprov (an image, a fake root) is read, never written.
tree "$base" >"$TMPD/before"
plan_json "$base" "$TMPD/again.json"
tree "$base" >"$TMPD/after"
if cmp -s "$TMPD/before" "$TMPD/after" && [ ! -e "$base/var/cache/gpuprov" ]; then
	ok "without var/cache/gpuprov: nothing written"
else
	not_ok "without var/cache/gpuprov: nothing written"
	diff "$TMPD/before" "$TMPD/after" >"$TMPD/tree.diff"
	diag_file "$TMPD/tree.diff"
fi

# new_root NAME: a copy of the machine with gpuprov's cache directory, as the package makes it.
new_root() {
	root=$TMPD/$1
	cp -a "$base" "$root"
	mkdir -p "$root/var/cache/gpuprov"
	chmod 0755 "$root/var/cache/gpuprov"
}

new_root idx
plan_json "$root" "$TMPD/first.json"
[ -s "$root/$IDX" ] && ok "the first plan writes the index" || not_ok "the first plan writes the index"
same_plan "the first plan (reading the lists) is the plan" "$TMPD/plain.json" "$TMPD/first.json"
cp "$root/$IDX" "$TMPD/good.idx"
plan_json "$root" "$TMPD/second.json"
same_plan "the second plan (through the index) is the plan" "$TMPD/plain.json" "$TMPD/second.json"

# Used: a list changed where nothing apt or gpuprov looks at shows it is not read again.
edit_in_place "$root/$LISTS/$NV"
plan_json "$root" "$TMPD/used.json"
same_plan "the index is used: a later plan does not read the lists" "$TMPD/plain.json" "$TMPD/used.json"
rm "$root/$IDX"
plan_json "$root" "$TMPD/reread.json"
same_plan "without the index the lists are read again" "$TMPD/edited.json" "$TMPD/reread.json"

# Stale: apt-get update replaces a list by a new file; removes one; adds one.
new_root stale
plan_json "$root" "$TMPD/warm.json"
cp -p "$root/$LISTS/$NV" "$TMPD/nv"
rm "$root/$LISTS/$NV"
plan_json "$root" "$TMPD/removed.json"
same_plan "a list removed: the index is stale, the plan is without it" "$TMPD/nonv.json" "$TMPD/removed.json"
cp -p "$TMPD/nv" "$root/$LISTS/$NV"
plan_json "$root" "$TMPD/added.json"
same_plan "a list added back: the index is stale, the plan is with it" "$TMPD/plain.json" "$TMPD/added.json"
edit_in_place "$TMPD/nv"
cp -p "$TMPD/nv" "$root/$LISTS/$NV.new"
mv "$root/$LISTS/$NV.new" "$root/$LISTS/$NV"
plan_json "$root" "$TMPD/replaced.json"
same_plan "a list replaced (same size and time, another file): the plan is of the new one" \
	"$TMPD/edited.json" "$TMPD/replaced.json"

# Damaged: not used, and a good one written in its place.
n=0
for damage in truncated garbage empty magic; do
	new_root "damaged-$damage"
	plan_json "$root" "$TMPD/warm.json"
	edit_in_place "$root/$LISTS/$NV"
	size=$(stat -c %s "$root/$IDX")
	case $damage in
	truncated) truncate -s $((size / 2)) "$root/$IDX" ;;
	garbage) head -c "$size" /dev/urandom >"$root/$IDX" ;;
	empty) : >"$root/$IDX" ;;
	magic) printf 'XXXXXXXX' | dd of="$root/$IDX" conv=notrunc status=none ;;
	esac
	plan_json "$root" "$TMPD/damaged.json"
	same_plan "an index $damage: not used, the lists are read" "$TMPD/edited.json" "$TMPD/damaged.json"
	# Written anew: the index a plan without one writes, byte for byte.
	cp "$root/$IDX" "$TMPD/rewritten.idx"
	rm "$root/$IDX"
	plan_json "$root" "$TMPD/fresh.json"
	cmp -s "$root/$IDX" "$TMPD/rewritten.idx" && ok "an index $damage: written anew" ||
		not_ok "an index $damage: written anew"
	n=$((n + 1))
done
check_ran "damaged indexes" "$n"

# Not gpuprov's own: a directory others may write, an index of another user's.
new_root groupdir
plan_json "$root" "$TMPD/warm.json"
edit_in_place "$root/$LISTS/$NV"
chmod 0775 "$root/var/cache/gpuprov"
cp "$root/$IDX" "$TMPD/idx.before"
plan_json "$root" "$TMPD/group.json"
same_plan "a cache directory the group may write: its index is not used" "$TMPD/edited.json" "$TMPD/group.json"
cmp -s "$root/$IDX" "$TMPD/idx.before" && ok "a cache directory the group may write: nothing written there" ||
	not_ok "a cache directory the group may write: nothing written there"

new_root otheruser
plan_json "$root" "$TMPD/warm.json"
edit_in_place "$root/$LISTS/$NV"
chown nobody "$root/$IDX"
plan_json "$root" "$TMPD/other.json"
same_plan "an index owned by another user: not used" "$TMPD/edited.json" "$TMPD/other.json"

# A link, out of the root or to a file in it: never read as an index, replaced, not followed.
printf 'host file\n' >"$TMPD/host-file"
new_root link
ln -s "$TMPD/host-file" "$root/$IDX"
plan_json "$root" "$TMPD/link.json"
same_plan "an index that is a link out of the root: the lists are read" "$TMPD/plain.json" "$TMPD/link.json"
if [ "$(cat "$TMPD/host-file")" = "host file" ] && [ -f "$root/$IDX" ] && [ ! -L "$root/$IDX" ]; then
	ok "an index that is a link: replaced by the index, the file it named untouched"
else
	not_ok "an index that is a link: replaced by the index, the file it named untouched"
fi

# Compressed lists: indexed as plain ones are.
new_root gz
for f in "$root/$LISTS"/*_Packages; do gzip "$f"; done
plan_json "$root" "$TMPD/gz1.json"
plan_json "$root" "$TMPD/gz2.json"
same_plan "gzip lists, read and indexed: the plan" "$TMPD/plain.json" "$TMPD/gz1.json"
same_plan "gzip lists, through the index: the plan" "$TMPD/plain.json" "$TMPD/gz2.json"

done_testing
