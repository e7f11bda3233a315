//! Bounded fuzzing that runs with every `cargo test`: random bytes and mutated valid frames
//! through both frame decoders and through a real server's handshake. Fixed case counts keep
//! the whole file under a second; a failure prints the minimal input it shrank to.

use std::fmt::Debug;
use std::sync::LazyLock;

use lounge_ipc::PROTOCOL_VERSION;
use lounge_ipc::frame::{self, FrameError, HEADER_LEN};
use lounge_ipc::to_bot::{Event, PlaybackState, RefuseReason, Reply, ToBot};
use lounge_ipc::to_streamer::{Auth, Command, Hello, Quality, Request, Source};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::util::{self, SECRET};

/// One valid frame of each kind the wire carries: the material mutations start from.
static SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let request = |id, command| frame::encode(&Request { id, command }).unwrap();
    vec![
        frame::encode(&Hello {
            version: PROTOCOL_VERSION,
            nonce: util::BOT_NONCE.into(),
        })
        .unwrap(),
        frame::encode(&Auth {
            proof: "ab".repeat(32),
        })
        .unwrap(),
        frame::encode(&ToBot::Challenge {
            nonce: "cd".repeat(32),
            proof: "ef".repeat(32),
        })
        .unwrap(),
        request(1, Command::Status),
        request(
            2,
            Command::Play {
                source: Source::Url {
                    url: "http://127.0.0.1:8000/a.mkv".into(),
                },
                start_offset_ms: 90_000,
                tracks: lounge_ipc::to_streamer::Tracks::default(),
            },
        ),
        request(3, Command::Seek { position_ms: 5000 }),
        request(
            4,
            Command::SetQuality {
                quality: Quality::P720,
            },
        ),
        frame::encode(&ToBot::Ready {
            version: PROTOCOL_VERSION,
            capabilities: util::capabilities(),
        })
        .unwrap(),
        frame::encode(&ToBot::Response {
            id: 5,
            reply: Reply::Status(util::status(PlaybackState::Playing, 1500)),
        })
        .unwrap(),
        frame::encode(&ToBot::Refused {
            reason: RefuseReason::BadSecret,
            server_version: PROTOCOL_VERSION,
            message: "no".into(),
        })
        .unwrap(),
        frame::encode(&ToBot::from(Event::Progress {
            position_ms: 61_000,
            duration_ms: Some(3_600_000),
        }))
        .unwrap(),
    ]
});

#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Set { at: usize, byte: u8 },
    Insert { at: usize, byte: u8 },
    Remove { at: usize },
    Truncate { len: usize },
}

impl Mutation {
    /// Positions wrap around the input, so every mutation applies to inputs of any length.
    fn apply(&self, bytes: &mut Vec<u8>) {
        let n = bytes.len();
        match *self {
            Mutation::Flip { at, bit } if n > 0 => bytes[at % n] ^= 1 << bit,
            Mutation::Set { at, byte } if n > 0 => bytes[at % n] = byte,
            Mutation::Insert { at, byte } => bytes.insert(at % (n + 1), byte),
            Mutation::Remove { at } if n > 0 => {
                bytes.remove(at % n);
            }
            Mutation::Truncate { len } => bytes.truncate(len % (n + 1)),
            _ => {}
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        // JSON's own bytes make near-misses (a valid document with a changed value or an
        // extra key) far likelier than random ones.
        (
            any::<usize>(),
            prop::sample::select(br#"{}[]":,0123456789 \-enulltrue"#.to_vec())
        )
            .prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Remove { at }),
        any::<usize>().prop_map(|len| Mutation::Truncate { len }),
    ]
}

/// A seed frame with 1–3 mutations. With `reframe`, only the body is mutated and the length
/// prefix recomputed, so the frame stays well-formed and the JSON is what varies.
fn mutated(reframe: bool) -> impl Strategy<Value = Vec<u8>> {
    (0..SEEDS.len(), prop::collection::vec(mutation(), 1..4)).prop_map(move |(seed, mutations)| {
        let seed = &SEEDS[seed];
        if reframe {
            let mut body = seed[HEADER_LEN..].to_vec();
            for m in &mutations {
                m.apply(&mut body);
            }
            let mut out = u32::try_from(body.len()).unwrap().to_be_bytes().to_vec();
            out.extend(body);
            out
        } else {
            let mut bytes = seed.clone();
            for m in &mutations {
                m.apply(&mut bytes);
            }
            bytes
        }
    })
}

/// Whatever a peer might send first: noise, hellos of every kind, and mutated frames.
fn input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..96),
        (
            prop_oneof![Just(PROTOCOL_VERSION), any::<u32>()],
            prop_oneof![
                Just(util::BOT_NONCE.to_owned()),
                "[0-9a-f]{64}",
                "[0-9a-fA-F]{0,70}",
                "[ -~]{0,70}"
            ],
        )
            .prop_map(|(version, nonce)| frame::encode(&Hello { version, nonce }).unwrap()),
        mutated(false),
        mutated(true),
    ]
}

fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("current-thread runtime")
        .block_on(f)
}

/// A message that parses must survive encoding again unchanged: otherwise a value could be
/// relayed (or logged and replayed) as something else.
fn round_trips<T>(body: &[u8]) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    if let Ok(message) = frame::parse::<T>(body) {
        let again = frame::encode(&message).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (body, _) = frame::decode(&again).unwrap().unwrap();
        prop_assert_eq!(frame::parse::<T>(body).unwrap(), message);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// `decode` (buffers) and `read_frame` (streams) promise the same checks: they must agree
    /// on every input, and never panic.
    #[test]
    fn decoders_agree_and_parsed_messages_round_trip(bytes in input()) {
        let mut reader: &[u8] = &bytes;
        let read = block_on(frame::read_frame(&mut reader));
        match (frame::decode(&bytes), read) {
            (Ok(Some((body, used))), Ok(Some(read))) => {
                prop_assert_eq!(body, &read[..]);
                prop_assert_eq!(used, HEADER_LEN + body.len());
                round_trips::<Hello>(body)?;
                round_trips::<Auth>(body)?;
                round_trips::<Request>(body)?;
                round_trips::<ToBot>(body)?;
            }
            (Err(FrameError::Oversized { .. }), Err(FrameError::Oversized { .. })) => {}
            (Ok(None), Ok(None)) => prop_assert!(bytes.is_empty()),
            (Ok(None), Err(FrameError::Truncated { .. })) => prop_assert!(!bytes.is_empty()),
            (decoded, read) => {
                prop_assert!(false, "decode: {:?}, read_frame: {:?}", decoded, read);
            }
        }
    }
}

/// What the server answers to a first frame.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// The streamer's challenge, with a proof that checks out for the hello's nonce.
    Challenge,
    Refused(RefuseReason),
    /// Closed without a word: the bytes were not one whole frame.
    Closed,
    Other(String),
}

/// The protocol's rule for the first frame, from the crate's own decoder and types.
fn expected(bytes: &[u8]) -> Outcome {
    let Ok(Some((body, _))) = frame::decode(bytes) else {
        return Outcome::Closed;
    };
    match frame::parse::<Hello>(body) {
        Err(_) => Outcome::Refused(RefuseReason::BadHandshake),
        Ok(hello) if hello.version != PROTOCOL_VERSION => {
            Outcome::Refused(RefuseReason::VersionMismatch)
        }
        Ok(hello)
            if hello.nonce.len() != 64 || !hello.nonce.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Outcome::Refused(RefuseReason::BadHandshake)
        }
        Ok(_) => Outcome::Challenge,
    }
}

/// Sends `bytes` as a new connection's first frame, half-closes, and reads what comes back.
/// Plain blocking std I/O, because interprocess's `shutdown` does not half-close.
#[cfg(unix)]
fn handshake(socket: &std::path::Path, bytes: &[u8]) -> Outcome {
    use std::io::{Read, Write};
    use std::net::Shutdown;
    use std::os::unix::net::UnixStream;

    let mut stream = UnixStream::connect(socket).expect("connect");
    stream.set_read_timeout(Some(util::WAIT)).unwrap();
    // The server may close before reading it all (an oversized header): that is its answer,
    // so write errors are expected.
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(Shutdown::Write);
    let mut reply = Vec::new();
    // A reset after the server's last frame still leaves that frame in `reply`.
    let _ = stream.read_to_end(&mut reply);
    let sent_nonce = frame::decode(bytes)
        .ok()
        .flatten()
        .and_then(|(body, _)| frame::parse::<Hello>(body).ok())
        .map(|h| h.nonce);
    match frame::decode(&reply) {
        Ok(Some((body, _))) => match frame::parse::<ToBot>(body) {
            Ok(ToBot::Challenge { nonce, proof })
                if sent_nonce
                    .is_some_and(|bot| proof == util::prove(SECRET, "streamer", &bot, &nonce)) =>
            {
                Outcome::Challenge
            }
            Ok(ToBot::Refused { reason, .. }) => Outcome::Refused(reason),
            other => Outcome::Other(format!("{other:?}")),
        },
        Ok(None) if reply.is_empty() => Outcome::Closed,
        other => Outcome::Other(format!("{other:?}")),
    }
}

/// Every first frame gets exactly the answer the protocol prescribes (a challenge, or a refusal
/// with the right reason, or a silent close for a broken frame), and the server keeps serving.
#[cfg(unix)]
#[test]
fn handshake_answers_any_first_frame_as_the_protocol_says() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fixture = util::Fixture::new();
    let _server = runtime.block_on(fixture.start(PlaybackState::Idle));
    let config = ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let seen = std::cell::RefCell::new(std::collections::HashSet::new());
    proptest::test_runner::TestRunner::new(config)
        .run(&input(), |bytes| {
            let outcome = handshake(&fixture.socket, &bytes);
            prop_assert_eq!(
                &outcome,
                &expected(&bytes),
                "first frame {:?}",
                String::from_utf8_lossy(&bytes)
            );
            seen.borrow_mut().insert(format!("{outcome:?}"));
            Ok(())
        })
        .unwrap();
    // The generators must reach every answer, or the property above proves little. (Each is
    // at least a 1-in-16 draw, so missing one in 256 cases is a broken generator, not bad luck.)
    let seen = seen.into_inner();
    for outcome in [
        Outcome::Challenge,
        Outcome::Refused(RefuseReason::VersionMismatch),
        Outcome::Refused(RefuseReason::BadHandshake),
        Outcome::Closed,
    ] {
        assert!(
            seen.contains(&format!("{outcome:?}")),
            "never saw {outcome:?}: {seen:?}"
        );
    }
    runtime.block_on(util::raw_handshake(&fixture.socket));
}
