#!/bin/sh
# Builds the lean Lambda binary of one diagnosis function and packages it for provided.al2023:
#
#   infra/lambda/package.sh FUNCTION        # or: just lambda-package FUNCTION
#
# FUNCTION is pending, image-pull, workload, runtime, build or wording. The result is
# target/lambda/FUNCTION/bootstrap (the `lastmile-lambda` binary built with `--features
# FUNCTION`) and target/lambda/FUNCTION.zip (what template.yaml deploys), and one line with
# both sizes. Environment:
#   LAMBDA_PROFILE  cargo profile (default `ship`: fat LTO, one codegen unit, stripped; slow
#                   to build: minutes per function on two cores). `dev` for a quick check.
#   LAMBDA_TARGET   rust target triple (default: this machine's). The template's default
#                   architecture is arm64: aarch64-unknown-linux-gnu, with its std installed
#                   (`rustup target add`) and a linker for it (CARGO_TARGET_<TRIPLE>_LINKER).
# Package one function at a time: every feature builds the same binary path.
set -eu

fn="${1:?usage: package.sh FUNCTION (pending, image-pull, workload, runtime, build, wording)}"
case "$fn" in
pending | image-pull | workload | runtime | build | wording) ;;
*)
	echo "package.sh: unknown function '$fn' (pending, image-pull, workload, runtime, build, wording)" >&2
	exit 2
	;;
esac

root=$(cd "$(dirname "$0")/../.." && pwd)
profile="${LAMBDA_PROFILE:-ship}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$profile" in
dev) profile_dir=debug ;;
*) profile_dir="$profile" ;;
esac

set -- build --locked --quiet -p lastmile-lambda --profile "$profile" --features "$fn"
if [ -n "${LAMBDA_TARGET:-}" ]; then
	set -- "$@" --target "$LAMBDA_TARGET"
	built="$target_dir/$LAMBDA_TARGET/$profile_dir/lastmile-lambda"
else
	built="$target_dir/$profile_dir/lastmile-lambda"
fi
(cd "$root" && "${CARGO:-cargo}" "$@")

package="$target_dir/lambda/$fn"
rm -rf "$package" "$package.zip"
mkdir -p "$package"
cp "$built" "$package/bootstrap"
chmod 0755 "$package/bootstrap"
if command -v zip >/dev/null 2>&1; then
	(cd "$package" && zip -q -9 -X "../$fn.zip" bootstrap)
else
	# Same archive without the zip tool: deflated, with the executable bit Lambda needs.
	python3 - "$package/bootstrap" "$package.zip" <<'PY'
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = 0o100755 << 16
info.compress_type = zipfile.ZIP_DEFLATED
with open(src, "rb") as f, zipfile.ZipFile(dst, "w") as z:
    z.writestr(info, f.read(), compresslevel=9)
PY
fi
size() { wc -c <"$1" | tr -d ' '; }
echo "lambda package $fn ($profile${LAMBDA_TARGET:+, $LAMBDA_TARGET}): bootstrap $(size "$package/bootstrap") bytes, $fn.zip $(size "$package.zip") bytes"
