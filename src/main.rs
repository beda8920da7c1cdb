fn main() -> std::process::ExitCode {
    clustertop::alloc::tune();
    clustertop::cli::main()
}
