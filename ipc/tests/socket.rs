//! A real server and client over a real local socket in a temp dir.

use std::time::Duration;

use lounge_ipc::frame::{self, MAX_FRAME_LEN};
use lounge_ipc::to_bot::{ErrorKind, Event, PlaybackState, RefuseReason, Reply, ToBot};
use lounge_ipc::to_streamer::{Auth, Command, Hello, Request};
use lounge_ipc::{
    Client, ClientError, ConnectionState, PROTOCOL_VERSION, Secret, Server, ServerError,
};
use tokio::io::AsyncWriteExt;

use crate::util::{self, Fixture, SECRET, WAIT};

#[tokio::test]
async fn handshake_ok_and_initial_resync() {
    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Idle).await;
    let client = Client::spawn(fx.client_config(SECRET));
    let state = client.wait_connected(WAIT).await.expect("connected");
    let ConnectionState::Connected {
        version,
        capabilities,
        status,
    } = state
    else {
        panic!("not connected: {state:?}");
    };
    assert_eq!(version, PROTOCOL_VERSION);
    assert_eq!(capabilities, util::capabilities());
    assert_eq!(status, Some(util::status(PlaybackState::Idle, 0)));
    assert_eq!(client.request(Command::Pause).await.unwrap(), Reply::Ok);
}

#[tokio::test]
async fn wrong_secret_is_refused_with_a_reason() {
    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Idle).await;
    let client = Client::spawn(fx.client_config("not the secret"));
    let (reason, message) = util::wait_for_refusal(&client).await;
    assert_eq!(reason, RefuseReason::BadSecret);
    assert!(message.contains("secret"), "{message}");
    let err = client.request(Command::Status).await.unwrap_err();
    assert!(matches!(err, ClientError::Offline));
    assert!(err.user_message().contains("offline"));
}

#[tokio::test]
async fn wrong_version_is_refused_with_a_reason() {
    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Idle).await;
    let stream = util::raw_connect(&fx.socket).await;
    let hello = Hello {
        version: PROTOCOL_VERSION + 998,
        nonce: util::BOT_NONCE.into(),
    };
    frame::send(&mut &stream, &hello).await.unwrap();
    match util::read_message(&stream).await {
        Some(ToBot::Refused {
            reason,
            server_version,
            message,
        }) => {
            assert_eq!(reason, RefuseReason::VersionMismatch);
            assert_eq!(server_version, PROTOCOL_VERSION);
            assert!(
                message.contains(&format!("v{}", PROTOCOL_VERSION + 998)),
                "{message}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    util::assert_closed(&stream).await;
}

/// Refused after the streamer's challenge, for `auth`: the streamer's answer and the close.
async fn refused_after_challenge(auth: &impl serde::Serialize) -> (RefuseReason, String) {
    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Idle).await;
    let stream = util::raw_connect(&fx.socket).await;
    util::raw_hello(&stream).await;
    frame::send(&mut &stream, auth).await.unwrap();
    let refusal = match util::read_message(&stream).await {
        Some(ToBot::Refused {
            reason, message, ..
        }) => (reason, message),
        other => panic!("expected a refusal, got {other:?}"),
    };
    util::assert_closed(&stream).await;
    refusal
}

#[tokio::test]
async fn a_bot_that_cannot_prove_the_secret_is_refused() {
    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Idle).await;
    let stream = util::raw_connect(&fx.socket).await;
    let nonce = util::raw_hello(&stream).await;
    let auth = Auth {
        proof: util::prove("not the secret", "bot", util::BOT_NONCE, &nonce),
    };
    frame::send(&mut &stream, &auth).await.unwrap();
    assert!(matches!(
        util::read_message(&stream).await,
        Some(ToBot::Refused {
            reason: RefuseReason::BadSecret,
            ..
        })
    ));
    util::assert_closed(&stream).await;

    // Nor can a proof be reflected (the streamer's own, sent back) or made up.
    let streamer_nonce = "11".repeat(32);
    for proof in [
        util::prove(SECRET, "streamer", util::BOT_NONCE, &streamer_nonce),
        "00".repeat(32),
        "not hex".into(),
    ] {
        let (reason, _) = refused_after_challenge(&Auth { proof }).await;
        assert_eq!(reason, RefuseReason::BadSecret);
    }
}

/// A proof seen on one connection is worthless on the next: the streamer's nonce is fresh.
#[tokio::test]
async fn a_recorded_proof_cannot_be_replayed() {
    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Idle).await;
    let first = util::raw_connect(&fx.socket).await;
    let nonce = util::raw_hello(&first).await;
    let recorded = Auth {
        proof: util::prove(SECRET, "bot", util::BOT_NONCE, &nonce),
    };
    let second = util::raw_connect(&fx.socket).await;
    let fresh = util::raw_hello(&second).await;
    assert_ne!(nonce, fresh, "the streamer's nonce repeated");
    frame::send(&mut &second, &recorded).await.unwrap();
    assert!(matches!(
        util::read_message(&second).await,
        Some(ToBot::Refused {
            reason: RefuseReason::BadSecret,
            ..
        })
    ));
    // The proof was good on its own connection.
    frame::send(&mut &first, &recorded).await.unwrap();
    assert!(matches!(
        util::read_message(&first).await,
        Some(ToBot::Ready { .. })
    ));
}

#[tokio::test]
async fn a_request_instead_of_auth_is_refused() {
    let request = Request {
        id: 1,
        command: Command::Status,
    };
    let (reason, message) = refused_after_challenge(&request).await;
    assert_eq!(reason, RefuseReason::BadHandshake);
    assert!(message.contains("auth"), "{message}");
}

/// A v2 bot sends its secret in the hello; the streamer answers with the version refusal that
/// tells the owner what to update.
#[tokio::test]
async fn an_older_bots_hello_gets_a_version_refusal() {
    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Idle).await;
    let stream = util::raw_connect(&fx.socket).await;
    let old = serde_json::json!({"op": "hello", "version": 2, "secret": SECRET});
    frame::send(&mut &stream, &old).await.unwrap();
    assert!(matches!(
        util::read_message(&stream).await,
        Some(ToBot::Refused {
            reason: RefuseReason::VersionMismatch,
            server_version: PROTOCOL_VERSION,
            ..
        })
    ));
}

/// Whatever holds the socket first (the issue's case: a local user who creates the pipe
/// before the streamer) gets a hello with a nonce and nothing else: the bot wants the
/// streamer's proof before it proves anything, and never sends the secret.
#[cfg(unix)]
#[tokio::test]
async fn an_impostor_on_the_socket_learns_nothing() {
    use tokio::io::AsyncReadExt;

    let fx = Fixture::new();
    let listener = tokio::net::UnixListener::bind(&fx.socket).unwrap();
    let client = Client::spawn(fx.client_config(SECRET));
    let (mut stream, _) = listener.accept().await.unwrap();
    let mut heard = Vec::new();
    let body = loop {
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "the bot hung up before its hello");
        heard.extend_from_slice(&buf[..n]);
        if let Ok(Some((body, _))) = frame::decode(&heard) {
            break body.to_vec();
        }
    };
    let hello: Hello = frame::parse(&body).unwrap();
    let guess = ToBot::Challenge {
        nonce: "22".repeat(32),
        proof: util::prove("a guess", "streamer", &hello.nonce, &"22".repeat(32)),
    };
    stream
        .write_all(&frame::encode(&guess).unwrap())
        .await
        .unwrap();
    // The bot hangs up without another word.
    let mut rest = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut rest))
        .await
        .expect("the bot kept the connection open")
        .unwrap();
    heard.extend_from_slice(&rest);
    assert!(rest.is_empty(), "the bot said more: {rest:?}");
    let secret = SECRET.as_bytes();
    assert!(!heard.windows(secret.len()).any(|w| w == secret));
    let (reason, message) = util::wait_for_refusal(&client).await;
    assert_eq!(reason, RefuseReason::BadSecret);
    assert!(message.contains("could not prove"), "{message}");
}

/// Everything both sides say during a real handshake and a request, relayed and recorded:
/// the secret is not in it.
#[cfg(unix)]
#[tokio::test]
async fn the_secret_never_crosses_the_socket() {
    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

    async fn pipe(
        mut from: impl AsyncRead + Unpin,
        mut to: impl AsyncWrite + Unpin,
        log: Arc<Mutex<Vec<u8>>>,
    ) {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from.read(&mut buf).await {
            if n == 0 || to.write_all(&buf[..n]).await.is_err() {
                return;
            }
            log.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    }

    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Idle).await;
    let relay_path = fx.socket.with_file_name("relay.sock");
    let listener = tokio::net::UnixListener::bind(&relay_path).unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let relay = {
        let (socket, log) = (fx.socket.clone(), Arc::clone(&log));
        tokio::spawn(async move {
            let (bot, _) = listener.accept().await.unwrap();
            let streamer = tokio::net::UnixStream::connect(socket).await.unwrap();
            let (bot_read, bot_write) = bot.into_split();
            let (streamer_read, streamer_write) = streamer.into_split();
            tokio::join!(
                pipe(bot_read, streamer_write, Arc::clone(&log)),
                pipe(streamer_read, bot_write, log),
            );
        })
    };
    let mut config = fx.client_config(SECRET);
    config.socket = relay_path;
    let client = Client::spawn(config);
    client
        .wait_connected(WAIT)
        .await
        .expect("connected through the relay");
    assert_eq!(client.request(Command::Pause).await.unwrap(), Reply::Ok);
    let heard = log.lock().unwrap().clone();
    assert!(
        heard.len() > 200,
        "the relay heard the handshake: {}",
        heard.len()
    );
    let secret = SECRET.as_bytes();
    assert!(!heard.windows(secret.len()).any(|w| w == secret));
    relay.abort();
}

#[tokio::test]
async fn request_before_hello_is_refused() {
    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Idle).await;
    let stream = util::raw_connect(&fx.socket).await;
    let request = Request {
        id: 1,
        command: Command::Status,
    };
    frame::send(&mut &stream, &request).await.unwrap();
    assert!(matches!(
        util::read_message(&stream).await,
        Some(ToBot::Refused {
            reason: RefuseReason::BadHandshake,
            ..
        })
    ));
    util::assert_closed(&stream).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_are_correlated_by_id() {
    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Playing).await;
    let client = Client::spawn(fx.client_config(SECRET));
    client.wait_connected(WAIT).await.unwrap();
    // The fake streamer answers higher targets sooner, so replies arrive out of order.
    let seeks = (0..20u64).map(|target| {
        let client = &client;
        async move {
            let reply = client
                .request(Command::Seek {
                    position_ms: target,
                })
                .await
                .unwrap();
            (target, reply)
        }
    });
    for (target, reply) in futures::future::join_all(seeks).await {
        match reply {
            Reply::Status(status) => assert_eq!(status.position_ms, target),
            other => panic!("unexpected reply {other:?}"),
        }
    }
}

#[tokio::test]
async fn oversized_frame_closes_the_connection() {
    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Idle).await;
    let mut stream = util::raw_handshake(&fx.socket).await;
    let len = u32::try_from(MAX_FRAME_LEN + 1).unwrap();
    stream.write_all(&len.to_be_bytes()).await.unwrap();
    util::assert_closed(&stream).await;
}

#[tokio::test]
async fn oversized_hello_closes_the_connection() {
    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Idle).await;
    let mut stream = util::raw_connect(&fx.socket).await;
    stream.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
    util::assert_closed(&stream).await;
}

#[cfg(unix)]
#[tokio::test]
async fn truncated_frame_closes_the_connection() {
    use std::io::{Read, Write};
    use std::net::Shutdown;
    use std::os::fd::OwnedFd;
    use std::os::unix::net::UnixStream;

    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Idle).await;
    let stream = util::raw_handshake(&fx.socket).await;
    // interprocess's `shutdown` is a no-op, so half-close through the raw socket: the server
    // then sees EOF mid-frame but can still close its side for us to observe.
    let interprocess::local_socket::tokio::Stream::UdSocket(uds) = stream;
    let mut raw = UnixStream::from(OwnedFd::try_from(uds).unwrap());
    let closed = tokio::task::spawn_blocking(move || {
        raw.set_nonblocking(false)?;
        raw.set_read_timeout(Some(WAIT))?;
        raw.write_all(&100u32.to_be_bytes())?;
        raw.write_all(br#"{"id":1,"#)?;
        raw.shutdown(Shutdown::Write)?;
        let mut buf = [0u8; 16];
        raw.read(&mut buf)
    })
    .await
    .unwrap();
    assert_eq!(
        closed.unwrap(),
        0,
        "server should close after a truncated frame"
    );
}

#[tokio::test]
async fn malformed_json_closes_the_connection() {
    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Idle).await;
    let mut stream = util::raw_handshake(&fx.socket).await;
    let body = b"{not json";
    stream
        .write_all(&u32::try_from(body.len()).unwrap().to_be_bytes())
        .await
        .unwrap();
    stream.write_all(body).await.unwrap();
    util::assert_closed(&stream).await;
}

#[tokio::test]
async fn unknown_op_is_answered_and_the_connection_survives() {
    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Idle).await;
    let mut stream = util::raw_handshake(&fx.socket).await;
    let body = br#"{"id":41,"op":"teleport","to":"mars"}"#;
    stream
        .write_all(&u32::try_from(body.len()).unwrap().to_be_bytes())
        .await
        .unwrap();
    stream.write_all(body).await.unwrap();
    match util::read_message(&stream).await {
        Some(ToBot::Response {
            id: 41,
            reply: Reply::Failed { kind, .. },
        }) => assert_eq!(kind, ErrorKind::InvalidRequest),
        other => panic!("expected an invalid_request failure, got {other:?}"),
    }
    let request = Request {
        id: 42,
        command: Command::Resume,
    };
    frame::send(&mut &stream, &request).await.unwrap();
    assert_eq!(
        util::read_message(&stream).await,
        Some(ToBot::Response {
            id: 42,
            reply: Reply::Ok
        })
    );
}

#[tokio::test]
async fn dropped_responder_fails_the_request_promptly() {
    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Idle).await;
    let client = Client::spawn(fx.client_config(SECRET));
    client.wait_connected(WAIT).await.unwrap();
    let started = std::time::Instant::now();
    match client.request(Command::Stop).await {
        Err(ClientError::Streamer { kind, .. }) => assert_eq!(kind, ErrorKind::Internal),
        other => panic!("expected an internal failure, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn events_reach_the_client() {
    let fx = Fixture::new();
    let server = fx.start(PlaybackState::Playing).await;
    let client = Client::spawn(fx.client_config(SECRET));
    let mut events = client.events();
    client.wait_connected(WAIT).await.unwrap();
    let event = Event::Progress {
        position_ms: 1234,
        duration_ms: Some(5000),
    };
    // The server subscribes a connection to events only after its handshake; keep sending
    // until this one has subscribed rather than racing it.
    let received = tokio::time::timeout(WAIT, async {
        loop {
            server.events().send(event.clone());
            if let Ok(Ok(e)) = tokio::time::timeout(Duration::from_millis(50), events.recv()).await
            {
                return e;
            }
        }
    })
    .await
    .expect("event delivered");
    assert_eq!(received, event);
}

#[tokio::test]
async fn client_reconnects_and_resyncs_after_a_server_restart() {
    let fx = Fixture::new();
    let server = fx.start(PlaybackState::Playing).await;
    let client = Client::spawn(fx.client_config(SECRET));
    let state = client.wait_connected(WAIT).await.unwrap();
    assert!(matches!(
        state,
        ConnectionState::Connected { status: Some(ref s), .. } if s.state == PlaybackState::Playing
    ));

    server.shutdown().await;
    util::wait_for_state(&client, "offline", |s| {
        matches!(s, ConnectionState::Offline { .. })
    })
    .await;
    assert!(matches!(
        client.request(Command::Status).await,
        Err(ClientError::Offline)
    ));

    // The restarted streamer has lost its playback; the re-sync must show that.
    let _server = fx.start(PlaybackState::Idle).await;
    let state = util::wait_for_state(&client, "reconnect", ConnectionState::is_connected).await;
    assert!(matches!(
        state,
        ConnectionState::Connected { status: Some(ref s), .. } if s.state == PlaybackState::Idle
    ));
    assert_eq!(client.request(Command::Resume).await.unwrap(), Reply::Ok);
}

#[tokio::test]
async fn client_started_before_the_server_connects_later() {
    let fx = Fixture::new();
    let client = Client::spawn(fx.client_config(SECRET));
    util::wait_for_state(&client, "offline", |s| {
        matches!(s, ConnectionState::Offline { .. })
    })
    .await;
    let _server = fx.start(PlaybackState::Idle).await;
    client.wait_connected(WAIT).await.unwrap();
}

#[tokio::test]
async fn a_second_server_cannot_steal_a_live_socket() {
    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Idle).await;
    match Server::bind(fx.server_config()).await {
        Err(ServerError::Bind { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::AddrInUse);
        }
        other => panic!("expected AddrInUse, got {other:?}"),
    }
}

#[tokio::test]
async fn empty_secret_is_rejected_at_bind() {
    let fx = Fixture::new();
    let mut config = fx.server_config();
    config.secret = Secret::new("");
    assert!(matches!(
        Server::bind(config).await,
        Err(ServerError::EmptySecret)
    ));
}

#[cfg(unix)]
#[tokio::test]
async fn socket_file_is_owner_only() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};

    let fx = Fixture::new();
    let _server = fx.start(PlaybackState::Idle).await;
    let metadata = std::fs::metadata(&fx.socket).expect("socket file exists");
    assert!(metadata.file_type().is_socket());
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
}

#[cfg(unix)]
#[tokio::test]
async fn stale_socket_file_from_a_crash_is_replaced() {
    let fx = Fixture::new();
    // A socket file with no listener behind it, as a killed streamer leaves.
    let stale = std::os::unix::net::UnixListener::bind(&fx.socket).unwrap();
    drop(stale);
    assert!(fx.socket.exists());
    let _server = fx.start(PlaybackState::Idle).await;
    let client = Client::spawn(fx.client_config(SECRET));
    client.wait_connected(WAIT).await.unwrap();
}
