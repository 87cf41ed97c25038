#!/usr/bin/env bash
# Runs looplab on a GPU machine from dist/gpu/ (see package-gpu.sh) against that machine's PyTorch,
# which python3 holds. DJL needs a JNI library built for that PyTorch: put it at
# $ENGINE_CACHE_DIR/pytorch/<version>-<flavor>-linux-x86_64/0.35.1-libdjl_torch.so before the first run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
torch_lib=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
torch_version=$(python3 -c 'import torch; print(torch.__version__.split("+")[0])')
cuda_flavor=$(python3 -c 'import torch; print("cu" + torch.version.cuda.replace(".", ""))')
site=$(dirname "$(dirname "$torch_lib")")
cudart_dir=$(dirname "$(find "$site/nvidia" -name 'libcudart.so*' | head -1)")
export PYTORCH_LIBRARY_PATH="$torch_lib"
export PYTORCH_VERSION="$torch_version"
export PYTORCH_FLAVOR="$cuda_flavor"
export ENGINE_CACHE_DIR="${ENGINE_CACHE_DIR:-$here/engine-cache}"
export DJL_CACHE_DIR="${DJL_CACHE_DIR:-$here/djl-cache}"
# Without a system fontconfig configuration, one that finds the font the package carries.
if [[ -z "${FONTCONFIG_FILE:-}" && ! -f /etc/fonts/fonts.conf ]]; then
  export FONTCONFIG_FILE="${TMPDIR:-/tmp}/looplab-fonts.conf"
  printf '<?xml version="1.0"?>\n<fontconfig><dir>%s</dir><cachedir>%s</cachedir></fontconfig>\n' \
    "$here/jre/lib/fonts" "${TMPDIR:-/tmp}/looplab-fontconfig" > "$FONTCONFIG_FILE"
fi
# java.desktop's native libraries (plots) need system libraries a GPU image may lack (the H200 image had
# no harfbuzz): package-gpu.sh ships them in native/, for the JVM alone (python3 keeps its own).
exec env LD_LIBRARY_PATH="$here/native${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$here/jre/bin/java" -Xmx16g -Djava.awt.headless=true -Dai.djl.offline=true -Djna.library.path="$cudart_dir" \
  -cp "$here/looplab.jar:$here/lib/*" looplab.examples.MainKt "$@"
