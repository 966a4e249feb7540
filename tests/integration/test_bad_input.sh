# Bad configs, data and checkpoints each give exit code 2 and a message naming the problem.
source "$(dirname "$0")/lib.sh" "$@"

printf 'train:\n  batch_sise: 64\n' > unknown_key.yaml
expect_exit 2 run --config unknown_key.yaml
expect_output "unknown_key.yaml: unknown key 'train.batch_sise'; did you mean 'train.batch_size'?"

printf 'train: {batch_size: many}\n' > wrong_type.yaml
expect_exit 2 run --config wrong_type.yaml
expect_output "key 'train.batch_size': expected an integer"

printf 'quantization: {weight_bits: 40}\n' > out_of_range.yaml
expect_exit 2 train --config out_of_range.yaml
expect_output "key 'quantization.weight_bits': expected an integer in [2, 16], found '40'"

printf 'model: {name: resnet}\n' > bad_choice.yaml
expect_exit 2 run --config bad_choice.yaml
expect_output "did you mean 'resnet20'?"

printf 'data: {path: /nonexistent/fashion}\n' > missing_data.yaml
expect_exit 2 run --config missing_data.yaml
expect_output "/nonexistent/fashion"
expect_output "dataset-fashion-mnist"

printf 'data: {dataset: cifar10, path: /nonexistent/cifar}\n' > missing_cifar.yaml
expect_exit 2 run --config missing_cifar.yaml
expect_output "/nonexistent/cifar"

expect_exit 2 run --config /nonexistent/config.yaml
expect_output "/nonexistent/config.yaml"

expect_exit 2 config --check /nonexistent/other.yaml
expect_output "/nonexistent/other.yaml"

printf 'model: {name: cnn\n' > broken.yaml
expect_exit 2 run --config broken.yaml
expect_output "not valid YAML"

printf 'quantization:\n  layer_overrides:\n    - layers: [conv9]\n      weight_bits: 4\n' > bad_override.yaml
expect_exit 2 layers --config bad_override.yaml
expect_output "'conv9', which matches none"

expect_exit 2 run --set train.batch_size
expect_output "expected key.path=value"

expect_exit 2 run --bogus-flag

# eval without training names the missing checkpoint.
small_config small.yaml runs/bad_ckpt
expect_exit 2 eval --config small.yaml --no-progress
expect_output "no complete float checkpoint for this config (file not found)"
checkpoint=$(grep -o "runs/bad_ckpt/checkpoints/float-[0-9a-f]*\.ckpt" out.txt)
[[ -n "$checkpoint" ]] || fail "the error does not name the checkpoint file"

# A checkpoint that is not one: eval reports the file.
mkdir -p "$(dirname "$checkpoint")"
echo "not a checkpoint" > "$checkpoint"
expect_exit 2 eval --config small.yaml --no-progress
expect_output "$checkpoint: expected a bitline checkpoint"
# An output directory that cannot be created (a path component is a file) fails before training, and
# leaves nothing behind: the run directory is not created when the checkpoint directory is refused.
touch a_file
expect_exit 2 train --config small.yaml --no-progress --set experiment.checkpoint_dir=a_file/checkpoints --run-dir fresh/run
expect_output "experiment.checkpoint_dir: cannot create directory a_file/checkpoints: a_file is not a directory"
[[ ! -e fresh ]] || fail "a refused checkpoint_dir left the run directory fresh/run behind"
expect_exit 2 run --config small.yaml --no-progress --run-dir a_file/run
expect_output "experiment.run_dir: cannot create directory a_file/run: a_file is not a directory"
expect_exit 2 run --config small.yaml --no-progress --run-dir fresh/run --set experiment.checkpoint_dir=a_file
expect_output "experiment.checkpoint_dir: expected a directory for the output files, found a_file, which is not a directory"
[[ ! -e fresh ]] || fail "a checkpoint_dir that is a file left the run directory fresh/run behind"
# A checkpoint directory that exists only as far as /proc: the run directory made first is removed again.
expect_exit 2 run --config small.yaml --no-progress --run-dir fresh/run --set experiment.checkpoint_dir=/proc/bitline/checkpoints
expect_output "experiment.checkpoint_dir: cannot create directory /proc/bitline/checkpoints"
[[ ! -e fresh ]] || fail "a checkpoint_dir under /proc left the run directory fresh/run behind"
echo "bad input tests passed"
