#!/usr/bin/env bash
# Maps per second of a streamed CD band sweep (trim sweep) of the demo's CNN
# (examples/demo: 16 filters 5x5 stride 2, ReLU, global average pooling, MLP
# 32 -> 2; untrained weights, the cost is the same) over 1,000 64x64 maps,
# 100 bands of width 0.1 as the demo, for 1 and 2 MPI ranks x 1 and 2
# threads. Checks that every run writes the same file, bit for bit.
#
#   bench/scale_sweep.sh [BUILD_DIR] [MAPS]      (default: build, 1000)
#
# Needs /usr/bin/python3 with numpy and torch (the model and maps) and a trim
# built with MPI (mpirun). Timings on a shared machine are indicative only.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
maps=${2:-1000}
trim=$PWD/$build/src/cli/trim
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
/usr/bin/python3 - "$maps" <<'PY'
import sys, numpy as np, torch
torch.manual_seed(0)
class Demo(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.conv = torch.nn.Conv2d(1, 16, 5, stride=2, padding=2)
        s.fc1 = torch.nn.Linear(16, 32)
        s.out = torch.nn.Linear(32, 2)
    def forward(s, x):
        h = torch.relu(s.conv(x)).mean((2, 3))
        return s.out(torch.relu(s.fc1(h)))
torch.onnx.export(Demo(), torch.randn(2, 1, 64, 64), "demo.onnx", input_names=["map"], output_names=["y"],
                  dynamic_axes={"map": {0: "n"}, "y": {0: "n"}}, opset_version=13)
np.save("maps.npy", np.random.default_rng(0).standard_normal((int(sys.argv[1]), 1, 64, 64), dtype=np.float32))
PY
export OMPI_MCA_btl=self,vader,tcp OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_plm_rsh_agent=
run() {  # ranks threads
  local out="sweep_$1x$2.npy" start end
  start=$(date +%s.%N)
  OMP_NUM_THREADS=$2 OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} mpirun -np "$1" --oversubscribe --allow-run-as-root --bind-to none \
    "$trim" sweep demo.onnx maps.npy --transform fft2 --centers 0.05:1.40:100 --width 0.1 \
    --threads "$2" --chunk 64 -o "$out" --summary "sweep_$1x$2.json" --quiet
  end=$(date +%s.%N)
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'ranks {sys.argv[3]} x threads {sys.argv[4]}: {s:6.1f} s, {int(sys.argv[5])/s:7.1f} maps/s')" \
    "$start" "$end" "$1" "$2" "$maps"
}
echo "CD sweep, 100 bands, $maps maps of 64x64, demo CNN; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for ranks in 1 2; do
  for threads in 1 2; do run "$ranks" "$threads"; done
done
for f in sweep_1x2.npy sweep_2x1.npy sweep_2x2.npy; do
  cmp -s sweep_1x1.npy "$f" && echo "$f: identical to 1 x 1" || echo "$f: DIFFERS from 1 x 1"
done
