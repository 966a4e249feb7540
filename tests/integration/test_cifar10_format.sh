# A CIFAR-10 binary-format dataset (synthetic) trains and evaluates end to end, with augmentation.
source "$(dirname "$0")/lib.sh" "$@"

python3 - <<'PY'
import os, random
random.seed(0)
os.makedirs("cifar", exist_ok=True)
def batch(path, records):
    with open(path, "wb") as f:
        for _ in range(records):
            label = random.randrange(10)
            # Class-dependent brightness so that the task is learnable.
            f.write(bytes([label]) + bytes(min(255, label * 25 + random.randrange(20)) for _ in range(3072)))
for i in range(1, 6):
    batch(f"cifar/data_batch_{i}.bin", 40)
batch("cifar/test_batch.bin", 50)
PY
cat > cifar.yaml <<'YAML'
experiment: {name: cifar, run_dir: runs/cifar}
data: {dataset: cifar10, path: cifar, augment: {random_crop_padding_px: 2, horizontal_flip: true}}
model: {name: resnet20, width_multiplier: 0.25}
train: {batch_size: 50, float: {epochs: 2, learning_rate: 0.05}, qat: {epochs: 1, learning_rate: 0.01}}
quantization:
  layer_overrides:
    - layers: [conv1, fc]
      weight_bits: 8
      activation_bits: 8
YAML
expect_exit 0 run --config cifar.yaml --no-progress --set quantization.weight_bits=4 --set quantization.activation_bits=4
expect_output "resnet20 on cifar10"
expect_output "W4A4*"
[[ $(json_get runs/cifar/results.json '["evaluations"][1]["images"]') == 50 ]] || fail "expected 50 test images"
echo "cifar10 format test passed"
