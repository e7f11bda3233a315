//! Which media a play order may open.
//!
//! The bot forwards what a Discord member typed. Without a policy any member could stream any
//! file the streamer's account can read (its own config with the tokens, the owner's documents)
//! or make FFmpeg fetch URLs from inside the owner's network. So local files must resolve,
//! symlinks and `..` included, inside one of the configured media folders, and remote URLs are
//! off unless the owner turns them on.

use std::path::{Path, PathBuf};

use lounge_ipc::to_bot::ErrorKind;
use lounge_ipc::to_streamer::Source;

/// What a play order resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    File(PathBuf),
    Url(String),
}

impl Resolved {
    /// What FFmpeg opens.
    pub fn input(&self) -> &Path {
        match self {
            Resolved::File(path) => path,
            Resolved::Url(url) => Path::new(url),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SourcePolicy {
    /// Canonical forms of the configured folders that exist.
    roots: Vec<PathBuf>,
    allow_urls: bool,
}

pub type Refusal = (ErrorKind, String);

impl SourcePolicy {
    /// Folders that do not exist are left out (and reported by `config check`), so a missing
    /// mount refuses its files instead of failing the whole daemon.
    pub fn new(roots: &[PathBuf], allow_urls: bool) -> Self {
        Self {
            roots: roots
                .iter()
                .filter_map(|r| std::fs::canonicalize(r).ok())
                .collect(),
            allow_urls,
        }
    }

    pub fn resolve(&self, source: &Source) -> Result<Resolved, Refusal> {
        let url = match source {
            Source::Url { url } => url.trim(),
            Source::Plex { .. } => {
                return Err((
                    ErrorKind::SourceUnavailable,
                    "Plex sources are not supported by this lounge-streamer build yet".to_owned(),
                ));
            }
            other => {
                return Err((
                    ErrorKind::InvalidRequest,
                    format!("this streamer does not know the source {other:?}"),
                ));
            }
        };
        if url.is_empty() {
            return Err((ErrorKind::SourceNotFound, "an empty source".to_owned()));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            match scheme.to_ascii_lowercase().as_str() {
                "file" => {}
                "http" | "https" if self.allow_urls => return Ok(Resolved::Url(url.to_owned())),
                "http" | "https" => {
                    return Err((
                        ErrorKind::SourceNotAllowed,
                        format!(
                            "{url}: remote URLs are off on this streamer (set allow_urls = true \
                             to let members play them)"
                        ),
                    ));
                }
                other => {
                    return Err((
                        ErrorKind::UnsupportedMedia,
                        format!(
                            "{url}: the {other}:// scheme is not supported (files, http, https)"
                        ),
                    ));
                }
            }
        }
        self.resolve_file(url.strip_prefix("file://").unwrap_or(url))
            .map(Resolved::File)
    }

    fn resolve_file(&self, path: &str) -> Result<PathBuf, Refusal> {
        if self.roots.is_empty() {
            return Err((
                ErrorKind::SourceNotFound,
                format!(
                    "{path}: no media folders are configured (set media_roots in the streamer's \
                     config), so no local file may be played"
                ),
            ));
        }
        let path = Path::new(path);
        // A relative name is looked up in each media folder in turn, so members can write
        // `Movies/Heat.mkv` without knowing where the library lives.
        let candidates: Vec<PathBuf> = if path.is_absolute() {
            vec![path.to_path_buf()]
        } else {
            self.roots.iter().map(|r| r.join(path)).collect()
        };
        let mut found_outside = false;
        for candidate in &candidates {
            let Ok(real) = std::fs::canonicalize(candidate) else {
                continue;
            };
            if self.roots.iter().any(|root| real.starts_with(root)) {
                return Ok(real);
            }
            found_outside = true;
        }
        // Both answers carry the same kind, so a member learns nothing about files outside.
        let why = if found_outside {
            "it is outside the media folders (media_roots)"
        } else {
            "no such file in the media folders"
        };
        Err((
            ErrorKind::SourceNotFound,
            format!("{}: {why}", path.display()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Source {
        Source::Url { url: s.to_owned() }
    }

    #[test]
    fn files_must_resolve_inside_a_media_folder() {
        let dir = tempfile::tempdir().unwrap();
        let media = dir.path().join("media");
        std::fs::create_dir_all(media.join("Movies")).unwrap();
        std::fs::write(media.join("Movies/heat.mkv"), b"x").unwrap();
        let secret = dir.path().join("lounge-streamer.toml");
        std::fs::write(&secret, b"ipc_secret = 'x'").unwrap();
        let policy = SourcePolicy::new(&[media.clone(), dir.path().join("missing")], false);
        let real = std::fs::canonicalize(media.join("Movies/heat.mkv")).unwrap();

        assert_eq!(
            policy.resolve(&url("Movies/heat.mkv")),
            Ok(Resolved::File(real.clone()))
        );
        let absolute = format!("file://{}", media.join("Movies/heat.mkv").display());
        assert_eq!(policy.resolve(&url(&absolute)), Ok(Resolved::File(real)));

        for escape in [
            secret.display().to_string(),
            format!("file://{}", secret.display()),
            "../lounge-streamer.toml".to_owned(),
            "Movies/../../lounge-streamer.toml".to_owned(),
        ] {
            let (kind, detail) = policy.resolve(&url(&escape)).unwrap_err();
            assert_eq!(kind, ErrorKind::SourceNotFound, "{escape}");
            assert!(detail.contains("outside"), "{escape}: {detail}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&secret, media.join("innocent.mkv")).unwrap();
            let (_, detail) = policy.resolve(&url("innocent.mkv")).unwrap_err();
            assert!(
                detail.contains("outside"),
                "a symlink out is still out: {detail}"
            );
        }
        let (kind, detail) = policy.resolve(&url("Movies/nope.mkv")).unwrap_err();
        assert_eq!(kind, ErrorKind::SourceNotFound);
        assert!(detail.contains("no such file"), "{detail}");
    }

    #[test]
    fn without_media_folders_no_file_plays() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.mkv");
        std::fs::write(&file, b"x").unwrap();
        let (kind, detail) = SourcePolicy::new(&[], true)
            .resolve(&url(file.to_str().unwrap()))
            .unwrap_err();
        assert_eq!(kind, ErrorKind::SourceNotFound);
        assert!(detail.contains("media_roots"), "{detail}");
    }

    #[test]
    fn remote_urls_only_when_allowed() {
        let off = SourcePolicy::new(&[], false);
        let (kind, detail) = off.resolve(&url("https://example.com/a.mp4")).unwrap_err();
        assert_eq!(kind, ErrorKind::SourceNotAllowed);
        assert!(detail.contains("allow_urls"), "{detail}");
        let on = SourcePolicy::new(&[], true);
        assert_eq!(
            on.resolve(&url("HTTPS://example.com/a.mp4")),
            Ok(Resolved::Url("HTTPS://example.com/a.mp4".to_owned()))
        );
        for odd in ["rtmp://x/y", "concat://a|b", "gopher://x"] {
            assert_eq!(
                on.resolve(&url(odd)).unwrap_err().0,
                ErrorKind::UnsupportedMedia,
                "{odd}"
            );
        }
        assert_eq!(
            on.resolve(&url("   ")).unwrap_err().0,
            ErrorKind::SourceNotFound
        );
    }
}
