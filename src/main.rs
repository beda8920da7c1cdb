fn main() -> std::process::ExitCode {
    one_malloc_arena();
    clustertop::cli::main()
}

/// glibc's malloc gives each thread its own arena and keeps what a thread freed there: after the
/// initial lists of 150,000 pods, parsed on tokio's worker threads, resident memory was twice the
/// live heap (323 MB for 145 MB). One arena keeps it near the heap (167 MB); clustertop's threads
/// allocate little once the lists are in, so the shared lock costs nothing measurable.
#[allow(unsafe_code)]
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
