# The kit's two commands. Both set up libtorch on first use (scripts/setup-libtorch).
#
#   make grade   grade the exercises crate (ARGS="--target solutions" and more: make grade ARGS=--help)
#   make test    the kit's own test suite: the reference passes every check,
#                the stubs are unsolved, the grader grades
#   make setup   only the libtorch set-up

ARGS ?=

.PHONY: grade test setup

grade: setup
	cargo run --release -p grader -- $(ARGS)

test: setup
	cargo test --workspace --exclude exercises

setup:
	@scripts/setup-libtorch
	@scripts/fetch-voc-samples
