#!/usr/bin/env bash
# Downloads BVLC Caffe's final source as Debian ships it (source package
# caffe 1.0.0+git20180821.99bd997-8 of the bullseye suite) into DEST_DIR,
# through a private apt configuration: its own sources file, state and cache
# folders under DEST_DIR. The deb-src entry reuses the URI of this machine's
# own Debian apt entry, so no mirror host is written anywhere in the project
# and the system's apt setup is left untouched. The checksum is verified by
# the caller (cmake/CaffeSource.cmake).
#
# usage: scripts/fetch_caffe_source.sh DEST_DIR
set -euo pipefail
dest=${1:?usage: $0 DEST_DIR}
version=1.0.0+git20180821.99bd997-8
suite=bullseye

if ! command -v apt-get >/dev/null; then
  echo "fetch_caffe_source: apt-get is not available on this machine." >&2
  echo "  Set FVVAE_CAFFE_TARBALL to a copy of caffe_1.0.0+git20180821.99bd997.orig.tar.gz" >&2
  exit 2
fi
if ! command -v dpkg-source >/dev/null; then
  echo "fetch_caffe_source: dpkg-dev is needed by 'apt-get source' (apt-get install dpkg-dev)." >&2
  exit 2
fi

# The URI of the machine's Debian archive entry (deb822 .sources or one-line .list).
uri=$(
  { cat /etc/apt/sources.list.d/*.sources 2>/dev/null; } | awk '
    /^URIs:/ { u = $2 } /^Suites:/ { s = $0 }
    /^$/ { if (u != "" && s ~ /(bookworm|bullseye|trixie|stable)( |$)/ && u !~ /security/) { print u; exit } u = ""; s = "" }
    END { if (u != "" && s ~ /(bookworm|bullseye|trixie|stable)( |$)/ && u !~ /security/) print u }' | head -n1
)
if [ -z "$uri" ]; then
  uri=$(grep -hE '^deb(-src)?\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | grep -v security | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit }}' | head -n1)
fi
if [ -z "$uri" ]; then
  echo "fetch_caffe_source: found no Debian archive entry in /etc/apt to build a deb-src line from." >&2
  echo "  Set FVVAE_CAFFE_TARBALL to a copy of caffe_1.0.0+git20180821.99bd997.orig.tar.gz" >&2
  exit 2
fi

priv="$dest/apt"
mkdir -p "$priv/lists/partial" "$priv/archives/partial" "$priv/sources.list.d" "$priv/preferences.d"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb-src [signed-by=$keyring] $uri $suite main" > "$priv/sources.list"
opts=(-o "Dir::Etc::SourceList=$priv/sources.list"
      -o "Dir::Etc::SourceParts=$priv/sources.list.d"
      -o "Dir::Etc::PreferencesParts=$priv/preferences.d"
      -o "Dir::State::Lists=$priv/lists"
      -o "Dir::Cache=$priv/cache"
      -o "Dir::Cache::archives=$priv/archives"
      -o "APT::Sandbox::User=root")
echo "fetch_caffe_source: apt-get source caffe=$version ($suite, from the machine's own archive entry)"
apt-get -q "${opts[@]}" update >"$priv/update.log" 2>&1 || { cat "$priv/update.log" >&2; exit 3; }
(cd "$dest" && apt-get -q "${opts[@]}" source --download-only "caffe=$version")
