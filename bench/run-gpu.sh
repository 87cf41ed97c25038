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
exec "$here/jre/bin/java" -Xmx16g -Djava.awt.headless=true -Dai.djl.offline=true -Djna.library.path="$cudart_dir" \
  -cp "$here/looplab.jar:$here/lib/*" looplab.examples.MainKt "$@"
