#!/usr/bin/env bash
# optimkit's Gradescope setup: Gradescope runs this once, as root, when it builds the autograder's image
# (Ubuntu 22.04 by default). It installs CPU PyTorch and the kit (the wheel beside this file) into a
# virtual environment, then makes the kit and this folder root's alone: student code never runs as root.
# Each setting can be changed by an environment variable; that is how the kit's tests run it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix="${OPTIMKIT_PREFIX:-/opt/optimkit}"
base_python="${OPTIMKIT_BASE_PYTHON:-python3}"
default_torch=@TORCH_SPEC@  # what `optimkit gradescope --torch` was given
torch_spec="${OPTIMKIT_TORCH-$default_torch}"  # set to "" where torch is installed already
torch_index="${OPTIMKIT_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}"
read -r -a pip_options <<< "${OPTIMKIT_PIP_OPTIONS:-}"
read -r -a venv_options <<< "${OPTIMKIT_VENV_OPTIONS:-}"

make_venv() { "$base_python" -m venv ${venv_options[@]+"${venv_options[@]}"} "$prefix"; }
if ! make_venv; then  # Ubuntu's python3 makes no virtual environment without its python3-venv package
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 python3-venv python3-pip
        make_venv
    else
        echo "setup.sh: $base_python cannot make a virtual environment, and apt-get cannot install what it needs" >&2
        exit 1
    fi
fi
pip=("$prefix/bin/python" -m pip --disable-pip-version-check --no-input install ${pip_options[@]+"${pip_options[@]}"})
if [ -n "$torch_spec" ]; then
    "${pip[@]}" --index-url "$torch_index" "$torch_spec"
fi
wheels=("$here"/optimkit-*.whl)
"${pip[@]}" "${wheels[@]}"
# -I: the kit installed in the prefix, never a `grader` folder in the current one.
"$prefix/bin/python" -I -m grader.platforms.protect "$here"
"$prefix/bin/python" -I -c 'import torch, grader.grading; print("optimkit ready: torch", torch.__version__)'
