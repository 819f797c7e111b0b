#!/usr/bin/env bash
# eval/need-debian.sh PACKAGE... — installs the Debian packages an
# evaluation needs (flite, the recorded prompts, the word list) when they
# are missing. Evaluations only: `make test` never needs them.
set -euo pipefail
missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "the evaluation needs Debian packages: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]} (for the evaluation)" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
