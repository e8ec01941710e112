#!/bin/sh
# Copyright 2026 The tcpping_exporter Authors
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
# http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

# tarball.sh OUTDIR NAME VERSION OS-ARCH BINDIR FILE...: writes
# OUTDIR/NAME-VERSION.OS-ARCH.tar.gz holding BINDIR/NAME (NAME.exe for
# windows) and the FILEs in one directory, the promu tarball layout, plus a
# .zip of the same for Windows when zip is installed. FILEs are relative
# paths, kept in the archive.
#
# promu tarball does the same but takes NAME from the git remote's URL,
# which a clone from a local path or a checkout without a remote gets wrong.
set -eu

out=$1 name=$2 version=$3 platform=$4 bindir=$5
shift 5
os=${platform%-*} arch=${platform#*-}
ext=
[ "$os" = windows ] && ext=.exe
dir=$name-$version.$os-$arch

mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/$dir"
# Each FILE keeps its path (examples/systemd/...), as the README names it.
for f in "$@"; do
	mkdir -p "$tmp/$dir/$(dirname "$f")"
	cp "$f" "$tmp/$dir/$f"
done
cp "$bindir/$name$ext" "$tmp/$dir/"
echo " >   $out/$dir.tar.gz"
tar -czf "$out/$dir.tar.gz" -C "$tmp" "$dir"
if [ "$os" = windows ]; then
	if command -v zip >/dev/null; then
		echo " >   $out/$dir.zip"
		rm -f "$out/$dir.zip"
		(cd "$tmp" && zip -qr "$out/$dir.zip" "$dir")
	else
		echo " >   $dir.zip skipped: zip is not installed" >&2
	fi
fi
