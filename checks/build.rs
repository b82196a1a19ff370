fn main() {
    libtorch_link::binaries_and_tests();
}
