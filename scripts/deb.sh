#!/bin/sh
# scripts/deb.sh -- `make deb`: a Debian package of the build, with Debian's own tools (docs/install.md)
#
# The tree is what `make install` and `make install-systemd` lay out under a staging root (PREFIX=/usr),
# plus DEBIAN/ from dist/deb/: control (Depends from dpkg-shlibdeps on the binaries, and adduser for
# postinst), conffiles, and the maintainer scripts. dpkg-deb builds it with root as owner of every file;
# /var/lib/tandem is made by postinst, owned by the user it creates.
# Usage: scripts/deb.sh BUILD OUTDIR   (writes OUTDIR/tandem_VERSION_ARCH.deb and prints its path)
set -eu
build=${1:-build}
out=${2:-$build/deb}
for tool in dpkg-deb dpkg-shlibdeps; do
	if ! command -v $tool >/dev/null; then
		sudo=""
		[ "$(id -u)" = 0 ] || sudo=sudo
		echo "deb: installing dpkg-dev" >&2
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends dpkg-dev >/dev/null
	fi
done
version=$("$build/tandemd" -V | sed -n 's/^tandemd //p')
arch=$(dpkg --print-architecture)
# A staging folder of this run's own: two runs at once (two test processes) never share one.
mkdir -p "$out"
stage=$(mktemp -d "$out/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
mkdir -p "$root/DEBIAN"
make -s --no-print-directory install install-systemd BUILD="$build" DESTDIR="$(cd "$root" && pwd)" \
	PREFIX=/usr SYSCONFDIR=/etc STATEDIR=/var/lib SYSTEMDUNITDIR=/lib/systemd/system
# postinst makes the data folder with its owner; dpkg would own it as root.
rmdir "$root/var/lib/tandem" "$root/var/lib" "$root/var"
install -d "$root/usr/share/doc/tandem"
gzip -9n -c ARCHITECTURE.md > "$root/usr/share/doc/tandem/ARCHITECTURE.md.gz"
for f in install cli configuration; do
	gzip -9n -c docs/$f.md > "$root/usr/share/doc/tandem/$f.md.gz"
done
gzip -9n "$root"/usr/share/man/man*/*
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/sbin/tandemd" \
	"$root/usr/bin/tandem"
# Depends: the shared libraries the binaries link, as Debian's own tool names them.
mkdir -p "$stage/debian"
printf 'Source: tandem\n\nPackage: tandem\nArchitecture: any\n' > "$stage/debian/control"
shlibs=$(cd "$stage" && dpkg-shlibdeps -O "root/usr/sbin/tandemd" "root/usr/bin/tandem" \
	| sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "deb: dpkg-shlibdeps named no shared libraries" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
	-e "s/@DEPENDS@/adduser, $shlibs/" dist/deb/control.in > "$root/DEBIAN/control"
echo /etc/tandem/tandem.yaml > "$root/DEBIAN/conffiles"
for s in postinst prerm postrm; do
	install -m 0755 dist/deb/$s "$root/DEBIAN/$s"
done
deb="$out/tandem_${version}_${arch}.deb"
# Built beside its place and renamed into it: a reader never sees half a package.
dpkg-deb --root-owner-group -Zxz --build "$root" "$stage/package.deb" >/dev/null
mv -f "$stage/package.deb" "$deb"
echo "$deb"
