#!/usr/bin/env bash
# Fetches the prebuilt CTranslate2 library the speech crate links against
# (ct2rs's `system` feature; docs/decisions/0015-prebuilt-ctranslate2.md)
# from the PyPI `ctranslate2` wheel, pinned by version and SHA-256, and
# unpacks it outside the repository:
#
#   ~/.cache/echoloop/ctranslate2-4.8.4/
#     libctranslate2-<hash>.so.4.8.4   CTranslate2 with oneDNN + MKL inside (MIT)
#     libgomp-<hash>.so.1.0.0          GNU OpenMP runtime it needs (found through
#                                      the library's own rpath, $ORIGIN)
#     libctranslate2.so                link name for `-lctranslate2`
#
# The version must stay that of the headers vendored in ct2rs (=0.10.3 ships
# CTranslate2 4.8.4): the C++ classes are shared across the boundary, so
# another version's layouts would not match. Idempotent and quick when the
# library is there. No root needed; nothing outside the cache directory.
#
# Environment: ECHOLOOP_CTRANSLATE2_DIR (default:
#              ~/.cache/echoloop/ctranslate2-4.8.4; the build reads the same
#              variable), ECHOLOOP_MODEL_CACHE (where wheels are kept,
#              default ~/.cache/echoloop/models).
set -euo pipefail

VERSION=4.8.4
dest="${ECHOLOOP_CTRANSLATE2_DIR:-$HOME/.cache/echoloop/ctranslate2-$VERSION}"
cache="${ECHOLOOP_MODEL_CACHE:-$HOME/.cache/echoloop/models}"

# The library inside does not depend on the Python version, so one wheel per
# platform is pinned (the cp311 one) and asked for explicitly, whatever
# python3 runs pip.
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64)
    PLATFORM=manylinux_2_28_x86_64
    WHEEL="ctranslate2-${VERSION}-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
    SHA256=1037b3f51d18f1546120686670d71fcdaf85a0500fffccc56d8439ded5d284e5
    ;;
  *)
    echo "fetch-ctranslate2: no prebuilt CTranslate2 pinned for $(uname -sm);" \
      "see docs/decisions/0015-prebuilt-ctranslate2.md" >&2
    exit 1
    ;;
esac

complete() {
  [[ -e "$dest/libctranslate2.so" ]] && compgen -G "$dest/libgomp-*.so.*" >/dev/null
}
complete && exit 0

mkdir -p "$cache"
if [[ ! -f "$cache/$WHEEL" ]]; then
  python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --platform "$PLATFORM" --implementation cp --python-version 3.11 --abi cp311 \
    -d "$cache" "ctranslate2==$VERSION" >&2
fi
echo "$SHA256  $cache/$WHEEL" | sha256sum --check --quiet - || {
  echo "fetch-ctranslate2: checksum mismatch for $WHEEL" >&2
  rm -f "$cache/$WHEEL"
  exit 1
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m zipfile -e "$cache/$WHEEL" "$tmp"
libs="$tmp/ctranslate2.libs"
lib="$(cd "$libs" && ls libctranslate2-*.so."$VERSION")"
mkdir -p "$dest"
cp "$libs"/libgomp-*.so.* "$dest/"
cp "$libs/$lib" "$dest/$lib.partial"
mv "$dest/$lib.partial" "$dest/$lib"
# The link name comes last: its presence is what marks the install complete.
ln -sfn "$lib" "$dest/libctranslate2.so"
echo "fetch-ctranslate2: CTranslate2 $VERSION ($WHEEL) -> $dest" >&2
