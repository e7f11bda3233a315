//! `lounge-streamer` is specified by the streamer-core issue and not built yet; it says so
//! instead of pretending to run.

fn main() -> std::process::ExitCode {
    eprintln!(
        "lounge-streamer: not implemented yet (see the streamer-core issue); nothing was started"
    );
    std::process::ExitCode::from(2)
}
