#!/usr/bin/env bash
# Assembles dist/gpu/: what travels to a GPU machine that has no JVM and no internet. A jlink'd
# JRE from the local JDK, looplab's jars and their dependencies minus the PyTorch natives (that
# machine's own libtorch is used) and minus the embedded Kotlin compiler (scripts are not run
# there), and run.sh, which points DJL at the machine's PyTorch. Needs a JDK 17 with jlink.
# The package is for `looplab bench train`: what only full runs need (plots, tokenizers) stays behind.
set -euo pipefail
cd "$(dirname "$0")/.."
out=dist/gpu
mvn -B -q package -DskipTests
rm -rf "$out"
mkdir -p "$out/lib"
cp examples/target/looplab.jar "$out/"
for jar in examples/target/lib/*.jar; do
  case "$(basename "$jar")" in
    pytorch-native-*|pytorch-jni-*|kotlin-compiler-embeddable-*|kotlin-scripting-*|kotlin-daemon-*|kotlin-build-tools-*|kotlin-script-runtime-*) ;;
    # So are what benchmarks never touch and the 64 MiB limit cannot spare: other tokenizers
    # (jtokkit's ranks, DJL's Hugging Face natives), plotting (XChart, which needs java.desktop),
    # archive and reflection libraries, and Mordant's non-JNA terminal backends.
    tokenizers-*|jtokkit-*|xchart-*|commons-compress-*|commons-io-*|kotlin-reflect-*|mordant-jvm-ffm-*|mordant-jvm-graal-ffi-*) ;;
    *) cp "$jar" "$out/lib/" ;;
  esac
done
# Modules from `jdeps --print-module-deps` over these jars, plus jdk.unsupported, which libraries
# reach through reflection (sun.misc.Unsafe) where jdeps cannot see it. java.desktop is left out to
# stay under the 64 MiB that can travel: only plotting (XChart) and DJL's image classes need it,
# and benchmarks use neither. Native debug symbols go too (libjvm.so drops from 23 to ~20 MB).
jlink --add-modules java.base,java.compiler,java.logging,java.management,jdk.unsupported \
  --strip-debug --strip-native-debug-symbols=objcopy=$(command -v objcopy) --no-header-files --no-man-pages --compress=2 --output "$out/jre"
cp bench/run-gpu.sh "$out/run.sh"
chmod +x "$out/run.sh"
du -sh "$out" "$out/jre" "$out/lib"
