//! Creating and connecting to the local socket, with owner-only access.

use std::io;
use std::path::{Path, PathBuf};

use interprocess::local_socket::tokio::{Listener, Stream, prelude::*};
use interprocess::local_socket::{GenericFilePath, ListenerOptions, Name};

/// Where `lounge-streamer` listens unless configured otherwise, and so where the bot looks.
/// Defined once here so the two can never disagree.
///
/// Linux: `$XDG_RUNTIME_DIR/lounge-streamer/lounge-streamer.sock` (else the local data dir);
/// macOS: the local data dir; Windows: the pipe `\\.\pipe\lounge-streamer`. `None` when the
/// OS gives no home directory to derive it from.
pub fn default_socket_path() -> Option<PathBuf> {
    if cfg!(windows) {
        return Some(PathBuf::from(r"\\.\pipe\lounge-streamer"));
    }
    directories::ProjectDirs::from("", "", "lounge-streamer").map(|d| {
        d.runtime_dir()
            .unwrap_or_else(|| d.data_local_dir())
            .join("lounge-streamer.sock")
    })
}

fn name(path: &Path) -> io::Result<Name<'_>> {
    path.to_fs_name::<GenericFilePath>()
}

pub(crate) async fn connect(path: &Path) -> io::Result<Stream> {
    Stream::connect(name(path)?).await
}

/// Binds the socket so only the current user can connect.
///
/// A socket file left behind by a streamer that crashed would make `bind` fail with
/// `AddrInUse`, so a stale one is replaced; a *live* one (something answers a connect) is not,
/// because two streamers fighting over one socket would be worse than refusing to start.
pub(crate) async fn listen(path: &Path) -> io::Result<Listener> {
    if connect(path).await.is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "another streamer is already listening on {}",
                path.display()
            ),
        ));
    }
    let options = ListenerOptions::new().name(name(path)?).try_overwrite(true);
    restrict_to_owner(options)?.create_tokio()
}

#[cfg(unix)]
#[allow(
    clippy::unnecessary_wraps,
    reason = "fallible on Windows; one signature for both"
)]
fn restrict_to_owner(options: ListenerOptions<'_>) -> io::Result<ListenerOptions<'_>> {
    use interprocess::os::unix::local_socket::ListenerOptionsExt;
    // Applied with fchmod before bind, so there is no window where the umask's mode is live.
    Ok(options.mode(0o600))
}

#[cfg(windows)]
fn restrict_to_owner(options: ListenerOptions<'_>) -> io::Result<ListenerOptions<'_>> {
    use interprocess::os::windows::local_socket::ListenerOptionsExt;
    use interprocess::os::windows::security_descriptor::SecurityDescriptor;
    // Protected DACL (no inherited entries) granting full access to the pipe's owner (the user
    // running the streamer) and SYSTEM only. The default pipe DACL would let Everyone read.
    let sddl = widestring::U16CString::from_str("D:P(A;;GA;;;OW)(A;;GA;;;SY)")
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    Ok(options.security_descriptor(SecurityDescriptor::deserialize(&sddl)?))
}

#[cfg(not(any(unix, windows)))]
fn restrict_to_owner(_options: ListenerOptions<'_>) -> io::Result<ListenerOptions<'_>> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no owner-only local socket on this platform",
    ))
}
