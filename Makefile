# The kit's two commands. Both set up libtorch on first use (scripts/setup-libtorch).
#
#   make grade   grade the exercises crate (ARGS="--target solutions" and more: make grade ARGS=--help)
#   make test    the kit's own test suite: the reference passes every check,
#                the stubs are unsolved, the grader grades; the kept numbers
#                hold under a second set of CPU kernels
#   make setup   only the libtorch set-up

ARGS ?=

.PHONY: grade test setup

# The grader is built as the tests build it (dependencies optimised, the
# kit's own crates not): one build serves both commands, and a first grade
# does not wait for a second, optimised build of tch. Its work is libtorch's.
grade: setup
	cargo run -p grader -- $(ARGS)

# The second line runs the public value tests and the kept training losses
# again under libtorch's basic kernels, as a processor without AVX computes
# them: the numbers the tests keep must hold on any processor.
BASIC_KERNELS := $(shell grep -v '^\#' scripts/basic-kernels)

test: setup
	cargo test --workspace --exclude exercises
	$(BASIC_KERNELS) cargo test -p solutions --test public --test training_losses

setup:
	@scripts/setup-libtorch
	@scripts/fetch-voc-samples
