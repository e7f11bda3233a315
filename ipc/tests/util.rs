use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::time::Duration;

use interprocess::local_socket::GenericFilePath;
use interprocess::local_socket::tokio::Stream;
use interprocess::local_socket::tokio::prelude::*;
use lounge_ipc::to_bot::{Capabilities, PlaybackState, RefuseReason, Reply, Status, ToBot};
use lounge_ipc::to_streamer::{Auth, Command, Hello, Quality, Request};
use lounge_ipc::{
    ClientConfig, ConnectionState, PROTOCOL_VERSION, Requests, Secret, Server, ServerConfig, frame,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tempfile::TempDir;

/// Pins `value`'s exact JSON both ways: a change here is a protocol change.
pub fn pin<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T, json: &str) {
    assert_eq!(serde_json::to_string(value).unwrap(), json);
    assert_eq!(&serde_json::from_str::<T>(json).unwrap(), value);
}

/// Pins a request's exact JSON, with its id.
pub fn request(id: u64, command: Command, json: &str) {
    pin(&Request { id, command }, json);
}

pub const SECRET: &str = "correct horse battery staple";

/// Long enough for a loaded CI machine, short enough that a hang fails fast.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct Fixture {
    // Held so the directory (and the socket in it) outlives the test.
    _dir: TempDir,
    pub socket: PathBuf,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("streamer.sock");
        Fixture { _dir: dir, socket }
    }

    pub fn server_config(&self) -> ServerConfig {
        ServerConfig::new(&self.socket, Secret::new(SECRET), capabilities())
    }

    pub fn client_config(&self, secret: &str) -> ClientConfig {
        let mut config = ClientConfig::new(&self.socket, Secret::new(secret));
        config.backoff_min = Duration::from_millis(20);
        config.backoff_max = Duration::from_millis(200);
        config.request_timeout = Duration::from_secs(5);
        config
    }

    /// A server with a fake streamer behind it, see [`fake_streamer`].
    pub async fn start(&self, state: PlaybackState) -> Server {
        let (server, requests) = Server::bind(self.server_config()).await.expect("bind");
        tokio::spawn(fake_streamer(requests, state));
        server
    }
}

pub fn capabilities() -> Capabilities {
    Capabilities {
        encoders: vec!["software".into()],
        qualities: vec![Quality::P720],
        video: true,
        tracks: true,
    }
}

pub fn status(state: PlaybackState, position_ms: u64) -> Status {
    Status {
        state,
        guild_id: None,
        channel_id: None,
        source: None,
        position_ms,
        duration_ms: None,
        quality: Quality::Auto,
        account_id: None,
    }
}

/// Answers `status` with `state`; answers `seek` with a status at the target position after a
/// delay that shrinks as the target grows, so concurrent seeks are answered out of order;
/// answers `stop` by dropping the responder; everything else with `ok`.
pub async fn fake_streamer(mut requests: Requests, state: PlaybackState) {
    while let Some((request, responder)) = requests.next().await {
        match request.command {
            Command::Status => {
                responder.respond(Reply::Status(status(state, 0)));
            }
            Command::Seek { position_ms } => {
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(
                        100u64.saturating_sub(position_ms * 5),
                    ))
                    .await;
                    responder.respond(Reply::Status(status(state, position_ms)));
                });
            }
            Command::Stop => drop(responder),
            _ => {
                responder.respond(Reply::Ok);
            }
        }
    }
}

pub async fn wait_for_state(
    client: &lounge_ipc::Client,
    what: &str,
    f: impl FnMut(&ConnectionState) -> bool,
) -> ConnectionState {
    let mut state = client.state();
    let result = tokio::time::timeout(WAIT, state.wait_for(f))
        .await
        .map(|r| r.map(|s| s.clone()));
    match result {
        Ok(Ok(s)) => s,
        _ => panic!(
            "timed out waiting for {what}; state is {:?}",
            *state.borrow()
        ),
    }
}

/// Waits until the client reports a refused handshake; its reason and message.
pub async fn wait_for_refusal(client: &lounge_ipc::Client) -> (RefuseReason, String) {
    match wait_for_state(client, "refusal", |s| {
        matches!(s, ConnectionState::Refused { .. })
    })
    .await
    {
        ConnectionState::Refused {
            reason, message, ..
        } => (reason, message),
        _ => unreachable!("waited for a refusal"),
    }
}

pub async fn raw_connect(socket: &Path) -> Stream {
    let name = socket.to_fs_name::<GenericFilePath>().expect("socket name");
    Stream::connect(name).await.expect("connect")
}

pub async fn read_message(stream: &Stream) -> Option<ToBot> {
    let body = tokio::time::timeout(WAIT, frame::read_frame(&mut &*stream))
        .await
        .expect("read timed out")
        .expect("read frame")?;
    Some(frame::parse(&body).expect("parse"))
}

/// A fixed, well-formed nonce (64 hex digits) for hand-made hellos.
pub const BOT_NONCE: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// A handshake proof as the protocol describes it: HMAC-SHA256 keyed with the secret over the
/// role label ("lounge-ipc streamer" or "lounge-ipc bot", NUL-terminated), then the bot's and
/// the streamer's nonces as bytes; hex. Written here from that description, independently of
/// the crate's code.
pub fn prove(secret: &str, role: &str, bot_nonce: &str, streamer_nonce: &str) -> String {
    use hmac::Mac;
    let bytes = |hex: &str| -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex nonce"))
            .collect()
    };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("lounge-ipc {role}\0").as_bytes());
    mac.update(&bytes(bot_nonce));
    mac.update(&bytes(streamer_nonce));
    mac.finalize()
        .into_bytes()
        .iter()
        .fold(String::new(), |mut hex, b| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// Sends a hello; returns the streamer's nonce after checking its proof.
pub async fn raw_hello(stream: &Stream) -> String {
    let hello = Hello {
        version: PROTOCOL_VERSION,
        nonce: BOT_NONCE.into(),
    };
    frame::send(&mut &*stream, &hello)
        .await
        .expect("send hello");
    match read_message(stream).await {
        Some(ToBot::Challenge { nonce, proof }) => {
            assert_eq!(proof, prove(SECRET, "streamer", BOT_NONCE, &nonce));
            nonce
        }
        other => panic!("expected a challenge, got {other:?}"),
    }
}

/// Connects without the client and completes the handshake by hand.
pub async fn raw_handshake(socket: &Path) -> Stream {
    let stream = raw_connect(socket).await;
    let nonce = raw_hello(&stream).await;
    let auth = Auth {
        proof: prove(SECRET, "bot", BOT_NONCE, &nonce),
    };
    frame::send(&mut &stream, &auth).await.expect("send auth");
    assert!(matches!(
        read_message(&stream).await,
        Some(ToBot::Ready { .. })
    ));
    stream
}

/// Asserts the server closed the connection: reading yields EOF (or a reset), not data.
pub async fn assert_closed(stream: &Stream) {
    let read = tokio::time::timeout(WAIT, frame::read_frame(&mut &*stream))
        .await
        .expect("server did not close the connection");
    assert!(
        matches!(read, Ok(None) | Err(_)),
        "expected the connection to be closed, got {read:?}"
    );
}
