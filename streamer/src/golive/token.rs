//! The owner's Discord user token: where it is kept and how it is read.
//!
//! Go Live logs in as the server owner's user account, so the token is as powerful as the
//! account's password. It is read from a file only its owner can read (`token_file`) or from the
//! OS keyring (`token_keyring`: macOS Keychain, Windows Credential Manager, Linux kernel
//! keyutils), it is never logged, and [`Token`] has neither `Serialize` nor a revealing `Debug`.
//!
//! On Linux the keyutils store is a cache, not a vault: the kernel keeps the entry in the user's
//! persistent keyring, which expires a few days after its last use and never survives a reboot.
//! A server that must come back on its own should use `token_file`.

use std::fmt;
use std::path::{Path, PathBuf};

/// The keyring service and entry name `token set` writes and `token_keyring = true` reads.
pub const KEYRING: KeyringEntry = KeyringEntry {
    service: "lounge-streamer",
    name: "discord-token",
};

/// A keyring entry: the service plus the entry (account) name inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyringEntry {
    pub service: &'static str,
    pub name: &'static str,
}

impl fmt::Display for KeyringEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the OS keyring (service `{}`, entry `{}`)",
            self.service, self.name
        )
    }
}

/// Where a token came from, for messages that tell the owner which one to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    File(PathBuf),
    Keyring(KeyringEntry),
    /// Handed over by code (tests, `token set` before storing).
    Given,
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "the token file {}", path.display()),
            Self::Keyring(entry) => entry.fmt(f),
            Self::Given => f.write_str("the token given"),
        }
    }
}

/// The owner's user token. Only [`Token::expose`] shows it, for the identify payload.
#[derive(Clone)]
pub struct Token {
    secret: String,
    source: TokenSource,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token(<redacted>, from {})", self.source)
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted token>")
    }
}

impl Token {
    /// Checks and wraps a token: surrounding whitespace is trimmed; an empty value, a bot
    /// token (`Bot ...`) or one with spaces or control characters inside is refused.
    pub fn new(raw: &str, source: TokenSource) -> Result<Self, TokenError> {
        let secret = raw.trim();
        if secret.is_empty() {
            return Err(TokenError::Empty { from: source });
        }
        let lower = secret.to_ascii_lowercase();
        if lower.starts_with("bot ") || lower.starts_with("bearer ") {
            return Err(TokenError::BotToken { from: source });
        }
        if secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(TokenError::Malformed { from: source });
        }
        Ok(Self {
            secret: secret.to_owned(),
            source,
        })
    }

    /// The token itself. Only the gateway's identify and resume payloads may use this.
    pub fn expose(&self) -> &str {
        &self.secret
    }

    pub fn source(&self) -> &TokenSource {
        &self.source
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "no Discord user token is configured for Go Live: set `token_file = \"PATH\"` (a file \
         only you can read, holding the owner account's token) or `token_keyring = true` (after \
         `lounge-streamer token set`) in {config}"
    )]
    NotConfigured { config: String },
    #[error(
        "both `token_file` and `token_keyring` are set in {config}: keep only the one that holds \
         the current token"
    )]
    TwoSources { config: String },
    #[error("could not read the token file {}: {source}", path.display())]
    FileUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the token file {} can be read by other users (mode {mode:o}); it holds the owner \
         account's credentials: run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    FileTooOpen { path: PathBuf, mode: u32 },
    #[error(
        "{from} is empty: put the owner account's Discord user token in it (one line, \
         nothing else)"
    )]
    Empty { from: TokenSource },
    #[error(
        "{from} holds a bot token (`Bot ...`): Go Live logs in as the server owner's USER \
         account, so it needs that account's user token, not the bot's (the bot keeps its own \
         token in the bot's config)"
    )]
    BotToken { from: TokenSource },
    #[error(
        "{from} does not look like a Discord token (it has spaces or control characters \
         inside): put only the token in it"
    )]
    Malformed { from: TokenSource },
    #[error(
        "{entry} has no token: store it with `lounge-streamer token set < FILE` (it reads the \
         token from stdin), or use `token_file` instead"
    )]
    KeyringEmpty { entry: KeyringEntry },
    #[error(
        "could not use {entry}: {reason}. On Linux the keyring is the kernel's keyutils store \
         (in-memory, lost at reboot); if it is not available here, use `token_file` instead"
    )]
    Keyring { entry: KeyringEntry, reason: String },
}

/// A secret file's permission bits when its group or others have any access to it (Unix);
/// `None` when only its owner has, and always on other systems.
pub(crate) fn too_open_mode(path: &Path) -> std::io::Result<Option<u32>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)?.permissions().mode();
        Ok((mode & 0o077 != 0).then_some(mode & 0o777))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(None)
    }
}

/// Reads a token file. On Unix the file must not be readable by group or others.
pub fn load_file(path: &Path) -> Result<Token, TokenError> {
    let unreadable = |source| TokenError::FileUnreadable {
        path: path.to_owned(),
        source,
    };
    if let Some(mode) = too_open_mode(path).map_err(unreadable)? {
        return Err(TokenError::FileTooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    let text = std::fs::read_to_string(path).map_err(unreadable)?;
    Token::new(&text, TokenSource::File(path.to_owned()))
}

fn keyring_error(entry: KeyringEntry, e: &keyring::Error) -> TokenError {
    TokenError::Keyring {
        entry,
        reason: e.to_string(),
    }
}

/// Reads the token from the OS keyring.
pub fn load_keyring(entry: KeyringEntry) -> Result<Token, TokenError> {
    let handle =
        keyring::Entry::new(entry.service, entry.name).map_err(|e| keyring_error(entry, &e))?;
    match handle.get_password() {
        Ok(secret) => Token::new(&secret, TokenSource::Keyring(entry)),
        Err(keyring::Error::NoEntry) => Err(TokenError::KeyringEmpty { entry }),
        Err(e) => Err(keyring_error(entry, &e)),
    }
}

/// Checks `raw` like a loaded token and stores it in the OS keyring.
pub fn store_keyring(entry: KeyringEntry, raw: &str) -> Result<(), TokenError> {
    let token = Token::new(raw, TokenSource::Given)?;
    let handle =
        keyring::Entry::new(entry.service, entry.name).map_err(|e| keyring_error(entry, &e))?;
    match handle.set_password(token.expose()) {
        Ok(()) => Ok(()),
        // keyutils reports a refused link as a missing entry: the process has no session
        // keyring of its own, so the key cannot be made to last.
        Err(keyring::Error::NoEntry) => Err(TokenError::Keyring {
            entry,
            reason: "the kernel keyring refused to keep the entry (this process has no session \
                     keyring of its own, as in containers and services started outside a login \
                     session)"
                .to_owned(),
        }),
        Err(e) => Err(keyring_error(entry, &e)),
    }
}

/// Removes the token from the OS keyring; a missing entry is not an error.
pub fn delete_keyring(entry: KeyringEntry) -> Result<(), TokenError> {
    let handle =
        keyring::Entry::new(entry.service, entry.name).map_err(|e| keyring_error(entry, &e))?;
    match handle.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(keyring_error(entry, &e)),
    }
}

/// Loads the token from wherever the configuration says. `config_file` names the file to fix
/// in the error when nothing is configured.
pub fn load(
    token_file: Option<&Path>,
    token_keyring: bool,
    config_file: &str,
) -> Result<Token, TokenError> {
    match (token_file, token_keyring) {
        (Some(_), true) => Err(TokenError::TwoSources {
            config: config_file.to_owned(),
        }),
        (Some(path), false) => load_file(path),
        (None, true) => load_keyring(KEYRING),
        (None, false) => Err(TokenError::NotConfigured {
            config: config_file.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_never_shows_in_debug_or_display() {
        let t = Token::new("  abc.def.ghi\n", TokenSource::Given).unwrap();
        assert_eq!(t.expose(), "abc.def.ghi");
        assert!(!format!("{t:?}").contains("abc"));
        assert!(!format!("{t}").contains("abc"));
    }

    #[test]
    fn bot_empty_and_malformed_tokens_are_refused() {
        assert!(matches!(
            Token::new(" \n", TokenSource::Given),
            Err(TokenError::Empty { .. })
        ));
        assert!(matches!(
            Token::new("Bot abc.def", TokenSource::Given),
            Err(TokenError::BotToken { .. })
        ));
        assert!(matches!(
            Token::new("bot abc.def", TokenSource::Given),
            Err(TokenError::BotToken { .. })
        ));
        assert!(matches!(
            Token::new("abc def", TokenSource::Given),
            Err(TokenError::Malformed { .. })
        ));
    }
}
