fn main() -> std::process::ExitCode {
    clustertop::cli::main()
}
