#!/usr/bin/env bash
# Assembles dist/gpu.tar.xz: what travels to a GPU machine that has no JVM and no internet, for whole
# runs (train, evaluate, record, plot) as well as benchmarks. Inside: a jlink'd JRE from the local
# JDK, looplab's jars and their dependencies minus the PyTorch natives (that machine's own libtorch
# is used) and minus the embedded Kotlin compiler (scripts are compiled here, not there), and
# run.sh, which points DJL at the machine's PyTorch. Needs a JDK 17 with jlink.
#
# Why one .tar.xz: a call can carry 64 MiB in all. Jars and jlink's image are zip-compressed entry
# by entry; stored uncompressed and compressed as one xz stream they take about half the space,
# which is what lets plots (java.desktop, XChart) and every tokenizer travel: measured, the package
# is 141 MB unpacked (JRE 74, jars 67) and 35.4 MB as .tar.xz, against 53 MiB for the earlier
# benchmark-only package without plots or tokenizers. Unpack there with
# `tar -xJf dist/gpu.tar.xz -C /tmp` (or python3's tarfile), then run /tmp/gpu/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
out=dist/gpu
[[ "${SKIP_BUILD:-}" == 1 ]] || mvn -B -q package -DskipTests
rm -rf "$out" dist/gpu.tar.xz
mkdir -p "$out/lib"
restore() { # a jar re-stored without compression (xz compresses the whole package better)
  local jar=$1 target=$2 tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && unzip -q "$jar" && shift 2 && for drop in "$@"; do rm -rf $drop; done && zip -q -0 -r -X "$target" .)
  rm -rf "$tmp"
}
restore "$PWD/examples/target/looplab.jar" "$PWD/$out/looplab.jar"
for jar in examples/target/lib/*.jar; do
  name=$(basename "$jar")
  case "$name" in
    # that machine's libtorch replaces these; scripts are compiled here, not there
    pytorch-native-*|pytorch-jni-*|kotlin-compiler-embeddable-*|kotlin-scripting-*|kotlin-daemon-*|kotlin-build-tools-*|kotlin-script-runtime-*) ;;
    # Hugging Face tokenizers: only the Linux x86-64 native library (14 of its 55 MB)
    tokenizers-*) restore "$PWD/$jar" "$PWD/$out/lib/$name" native/lib/win-x86_64 native/lib/osx-aarch64 native/lib/linux-aarch64 ;;
    *) restore "$PWD/$jar" "$PWD/$out/lib/$name" ;;
  esac
done
# Modules from `jdeps --print-module-deps` over these jars, plus jdk.unsupported, which libraries
# reach through reflection (sun.misc.Unsafe) where jdeps cannot see it, and java.desktop for
# plotting (XChart). Native debug symbols go (libjvm.so drops from 23 to ~20 MB).
jlink --add-modules java.base,java.compiler,java.desktop,java.logging,java.management,jdk.unsupported \
  --strip-debug --strip-native-debug-symbols=objcopy=$(command -v objcopy) --no-header-files --no-man-pages --compress=0 --output "$out/jre"
# Plots on a bare GPU image: the system libraries java.desktop's font and image code links to (beyond
# glibc and libstdc++; the H200 image lacked harfbuzz and fontconfig) go to native/, which run.sh puts on the JVM's
# library path, and one font goes to jre/lib/fonts, which run.sh names in a fontconfig file of its own.
mkdir -p "$out/native" "$out/jre/lib/fonts"
fontconfig=$(ldconfig -p | awk '/libfontconfig.so.1 /{print $NF; exit}')  # the JDK loads it at run time, ldd cannot see it
for lib in "$out"/jre/lib/{libfontmanager,liblcms,libjavajpeg,libawt_headless}.so $fontconfig; do echo "$lib => $lib (0)"; ldd "$lib"; done | grep -v "^$out" |
  awk '/=> \//{print $3}' | sort -u | grep -v -E '/(libc|libm|libgcc_s|libstdc\+\+|ld-linux)[.-]' | grep -v "/$out/" |
  xargs -r cp -L -t "$out/native/"
font=$(fc-match -f '%{file}' 'DejaVu Sans' 2>/dev/null || true)
[[ -f "$font" ]] && cp "$font" "$out/jre/lib/fonts/"
cp bench/run-gpu.sh "$out/run.sh"
chmod +x "$out/run.sh"
tar -C dist -cf - gpu | xz -6 -T0 > dist/gpu.tar.xz
du -sh "$out" "$out/jre" "$out/lib" dist/gpu.tar.xz
