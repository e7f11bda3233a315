//! DAVE, Discord's end-to-end media encryption: the MLS group state machine the voice gateway
//! drives (opcodes 21–31), wrapped around `davey` 0.2, and per-frame encryption.
//!
//! [`Dave`] is pure: it takes the gateway's DAVE messages and returns what to send back, so
//! the websocket task owns all I/O and the rules here are testable without a server.
//!
//! The flow (Discord's voice docs, "DAVE"; Discord-video-stream 6 and songbird 0.6 implement the
//! same with davey 0.1; davey 0.2 adds the explicit transition step):
//! 1. Session Description with `dave_protocol_version > 0` → create the session and send our
//!    key package (op 26).
//! 2. External sender (op 25) → the group's external sender (Discord's voice server).
//! 3. Proposals (op 27) → if they produce a commit, send it with its welcome (op 28).
//! 4. Announce commit transition (op 29) or welcome (op 30) → merge it and prepare the
//!    transition; a non-zero transition id is acknowledged with transition ready (op 23) and
//!    the new keys are used from execute transition (op 22); id 0 switches at once. A commit or
//!    welcome that fails is reported with op 31 and the session starts over with a new key
//!    package.
//! 5. Prepare epoch (op 24) with epoch 1 → a new group: re-initialise, new key package.

use std::collections::BTreeSet;
use std::num::NonZeroU16;

use davey::{Codec, DaveSession, MediaType, ProposalsOperationType};
use serde_json::{Value, json};

use crate::pipeline::StreamKind;

/// Voice-gateway opcodes of the DAVE protocol.
pub mod op {
    pub const PREPARE_TRANSITION: u8 = 21;
    pub const EXECUTE_TRANSITION: u8 = 22;
    pub const TRANSITION_READY: u8 = 23;
    pub const PREPARE_EPOCH: u8 = 24;
    pub const EXTERNAL_SENDER: u8 = 25;
    pub const KEY_PACKAGE: u8 = 26;
    pub const PROPOSALS: u8 = 27;
    pub const COMMIT_WELCOME: u8 = 28;
    pub const ANNOUNCE_COMMIT_TRANSITION: u8 = 29;
    pub const WELCOME: u8 = 30;
    pub const INVALID_COMMIT_WELCOME: u8 = 31;
}

/// The highest DAVE protocol version this build speaks (sent in Identify).
pub const MAX_PROTOCOL_VERSION: u16 = davey::DAVE_PROTOCOL_VERSION;

/// The marker every DAVE-encrypted frame ends with.
pub const MAGIC_MARKER: [u8; 2] = [0xFA, 0xFA];

#[derive(Debug, thiserror::Error)]
pub enum DaveError {
    #[error(
        "the voice server asked for DAVE protocol version {0}, which this build does not support (it supports up to {MAX_PROTOCOL_VERSION})"
    )]
    UnsupportedVersion(u16),
    #[error("could not start the DAVE session: {0}")]
    Init(String),
    #[error("a binary DAVE message of {0} bytes is too short")]
    ShortFrame(usize),
    #[error("the DAVE {op} message is malformed: {reason}")]
    Malformed { op: u8, reason: String },
    #[error("the DAVE external sender was rejected: {0}")]
    ExternalSender(String),
    #[error("the DAVE proposals could not be processed: {0}")]
    Proposals(String),
    #[error("the DAVE transition {id} failed: {reason}")]
    Transition { id: u16, reason: String },
    #[error("DAVE is not ready to encrypt media")]
    NotReady,
    #[error("DAVE encryption of a frame failed: {0}")]
    Encrypt(String),
}

/// A message for the voice gateway.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    /// `{"op": op, "d": d}` as a text frame.
    Json { op: u8, d: Value },
    /// `[op][payload]` as a binary frame.
    Binary { op: u8, payload: Vec<u8> },
}

impl Outgoing {
    /// The binary frame a client sends: the opcode byte, then the payload (no sequence
    /// number; only the server numbers its binary messages).
    pub fn binary_frame(op: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(payload.len() + 1);
        out.push(op);
        out.extend_from_slice(payload);
        out
    }
}

/// Splits a binary frame from the server (voice gateway v8): `[u16 seq][u8 op][payload]`.
pub fn split_server_frame(frame: &[u8]) -> Result<(u16, u8, &[u8]), DaveError> {
    match frame {
        [s0, s1, op, payload @ ..] => Ok((u16::from_be_bytes([*s0, *s1]), *op, payload)),
        _ => Err(DaveError::ShortFrame(frame.len())),
    }
}

/// Splits the `[u16 transition id][MLS message]` payload of ops 29 and 30.
pub fn split_transition(op: u8, payload: &[u8]) -> Result<(u16, &[u8]), DaveError> {
    match payload {
        [t0, t1, message @ ..] if !message.is_empty() => {
            Ok((u16::from_be_bytes([*t0, *t1]), message))
        }
        _ => Err(DaveError::Malformed {
            op,
            reason: format!(
                "{} bytes, expected a transition id and a message",
                payload.len()
            ),
        }),
    }
}

/// One connection's DAVE state.
pub struct Dave {
    user_id: u64,
    group_id: u64,
    session: Option<DaveSession>,
    /// The protocol version the Session Description (or the latest prepare epoch) set.
    protocol_version: u16,
    /// Users the voice server says are in the call (ops 11 and 13), checked against the
    /// members proposals and welcomes bring in.
    connected: BTreeSet<u64>,
    /// Transitions executed, the first one included: a count a server owner can compare.
    transitions: u64,
}

impl std::fmt::Debug for Dave {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dave")
            .field("user_id", &self.user_id)
            .field("group_id", &self.group_id)
            .field("protocol_version", &self.protocol_version)
            .field("can_encrypt", &self.can_encrypt())
            .field("epoch", &self.epoch())
            .finish_non_exhaustive()
    }
}

impl Dave {
    pub fn new(user_id: u64, group_id: u64) -> Self {
        Self {
            user_id,
            group_id,
            session: None,
            protocol_version: 0,
            connected: BTreeSet::new(),
            transitions: 0,
        }
    }

    pub fn protocol_version(&self) -> u16 {
        self.protocol_version
    }

    /// Whether frames can be end-to-end encrypted now.
    pub fn can_encrypt(&self) -> bool {
        self.protocol_version != 0 && self.session.as_ref().is_some_and(DaveSession::can_encrypt)
    }

    /// The MLS epoch of the established group, if any.
    pub fn epoch(&self) -> Option<u64> {
        self.session
            .as_ref()
            .and_then(DaveSession::epoch)
            .map(|e| e.as_u64())
            .filter(|&e| e != 0)
    }

    pub fn transitions(&self) -> u64 {
        self.transitions
    }

    /// The voice privacy code users compare in their clients, once the group is established.
    pub fn privacy_code(&self) -> Option<String> {
        self.session
            .as_ref()
            .and_then(|s| s.voice_privacy_code().map(str::to_owned))
    }

    /// The Session Description negotiated `version`: start the session and offer our key
    /// package.
    pub fn start(&mut self, version: u16) -> Result<Vec<Outgoing>, DaveError> {
        let nz = NonZeroU16::new(version)
            .filter(|v| v.get() <= MAX_PROTOCOL_VERSION)
            .ok_or(DaveError::UnsupportedVersion(version))?;
        self.protocol_version = version;
        match &mut self.session {
            Some(s) => s
                .reinit(nz, self.user_id, self.group_id, None)
                .map_err(|e| DaveError::Init(e.to_string()))?,
            None => {
                self.session = Some(
                    DaveSession::new(nz, self.user_id, self.group_id, None)
                        .map_err(|e| DaveError::Init(e.to_string()))?,
                );
            }
        }
        Ok(vec![self.key_package()?])
    }

    fn key_package(&mut self) -> Result<Outgoing, DaveError> {
        let session = self.session.as_mut().ok_or(DaveError::NotReady)?;
        let payload = session
            .create_key_package()
            .map_err(|e| DaveError::Init(e.to_string()))?;
        Ok(Outgoing::Binary {
            op: op::KEY_PACKAGE,
            payload,
        })
    }

    pub fn clients_connect(&mut self, user_ids: impl IntoIterator<Item = u64>) {
        self.connected.extend(user_ids);
    }

    pub fn client_disconnect(&mut self, user_id: u64) {
        self.connected.remove(&user_id);
    }

    fn members(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.connected.iter().copied().collect();
        ids.push(self.user_id);
        ids
    }

    /// A JSON DAVE message (ops 21, 22, 24).
    pub fn handle_json(&mut self, opcode: u8, d: &Value) -> Result<Vec<Outgoing>, DaveError> {
        let field = |name: &str| {
            d.get(name)
                .and_then(Value::as_u64)
                .ok_or_else(|| DaveError::Malformed {
                    op: opcode,
                    reason: format!("no numeric `{name}`"),
                })
        };
        match opcode {
            op::PREPARE_TRANSITION => {
                let id = u16::try_from(field("transition_id")?).unwrap_or(u16::MAX);
                let version = u16::try_from(field("protocol_version")?).unwrap_or(u16::MAX);
                self.prepare(id, version)
            }
            op::EXECUTE_TRANSITION => {
                let id = u16::try_from(field("transition_id")?).unwrap_or(u16::MAX);
                self.execute(id)?;
                Ok(Vec::new())
            }
            op::PREPARE_EPOCH => {
                let epoch = field("epoch")?;
                let version = u16::try_from(field("protocol_version")?).unwrap_or(u16::MAX);
                if epoch == 1 {
                    // A new group is being formed: start over with a fresh key package.
                    if version == 0 {
                        self.protocol_version = 0;
                        return Ok(Vec::new());
                    }
                    return self.start(version);
                }
                Ok(Vec::new())
            }
            _ => Ok(Vec::new()),
        }
    }

    fn prepare(&mut self, id: u16, version: u16) -> Result<Vec<Outgoing>, DaveError> {
        if let Some(session) = &mut self.session {
            session
                .prepare_transition(id, version)
                .map_err(|e| DaveError::Transition {
                    id,
                    reason: e.to_string(),
                })?;
        }
        if id == 0 {
            self.applied(version);
            return Ok(Vec::new());
        }
        Ok(vec![transition_ready(id)])
    }

    fn execute(&mut self, id: u16) -> Result<(), DaveError> {
        let Some(session) = &mut self.session else {
            return Ok(());
        };
        let executed = session
            .execute_transition(id)
            .map_err(|e| DaveError::Transition {
                id,
                reason: e.to_string(),
            })?;
        if executed {
            // davey knows the version it moved to; reflect a downgrade so media stops.
            let version = if session.can_encrypt() {
                session.protocol_version().get()
            } else {
                0
            };
            self.applied(version);
        }
        Ok(())
    }

    fn applied(&mut self, version: u16) {
        self.protocol_version = version;
        self.transitions += 1;
        tracing::debug!(
            version,
            epoch = ?self.epoch(),
            can_encrypt = self.can_encrypt(),
            "DAVE transition executed"
        );
    }

    /// A binary DAVE message (ops 25, 27, 29, 30), without the server's sequence number.
    pub fn handle_binary(
        &mut self,
        opcode: u8,
        payload: &[u8],
    ) -> Result<Vec<Outgoing>, DaveError> {
        let members = self.members();
        let Some(session) = &mut self.session else {
            tracing::debug!(opcode, "DAVE message before the session started; ignored");
            return Ok(Vec::new());
        };
        match opcode {
            op::EXTERNAL_SENDER => {
                session
                    .set_external_sender(payload)
                    .map_err(|e| DaveError::ExternalSender(e.to_string()))?;
                Ok(Vec::new())
            }
            op::PROPOSALS => {
                let Some((&kind, proposals)) = payload.split_first() else {
                    return Err(DaveError::Malformed {
                        op: opcode,
                        reason: "empty".into(),
                    });
                };
                let kind = match kind {
                    0 => ProposalsOperationType::APPEND,
                    1 => ProposalsOperationType::REVOKE,
                    other => {
                        return Err(DaveError::Malformed {
                            op: opcode,
                            reason: format!("unknown operation type {other}"),
                        });
                    }
                };
                let commit = session
                    .process_proposals(kind, proposals, Some(&members))
                    .map_err(|e| DaveError::Proposals(e.to_string()))?;
                Ok(commit
                    .map(|cw| {
                        let mut payload = cw.commit;
                        payload.extend_from_slice(cw.welcome.as_deref().unwrap_or_default());
                        Outgoing::Binary {
                            op: op::COMMIT_WELCOME,
                            payload,
                        }
                    })
                    .into_iter()
                    .collect())
            }
            op::ANNOUNCE_COMMIT_TRANSITION => {
                let (id, commit) = split_transition(opcode, payload)?;
                match session.process_commit(commit) {
                    Ok(true) => {
                        let version = self.protocol_version;
                        self.prepare(id, version)
                    }
                    Ok(false) => Ok(Vec::new()),
                    Err(e) => {
                        tracing::warn!(transition = id, error = %e, "DAVE commit rejected; rejoining the group");
                        self.invalid(id)
                    }
                }
            }
            op::WELCOME => {
                let (id, welcome) = split_transition(opcode, payload)?;
                match session.process_welcome(welcome, Some(&members)) {
                    Ok(()) => {
                        let version = self.protocol_version;
                        self.prepare(id, version)
                    }
                    Err(e) => {
                        tracing::warn!(transition = id, error = %e, "DAVE welcome rejected; rejoining the group");
                        self.invalid(id)
                    }
                }
            }
            _ => Ok(Vec::new()),
        }
    }

    /// Tells the server the commit or welcome was unusable and starts over.
    fn invalid(&mut self, id: u16) -> Result<Vec<Outgoing>, DaveError> {
        let mut out = vec![Outgoing::Json {
            op: op::INVALID_COMMIT_WELCOME,
            d: json!({ "transition_id": id }),
        }];
        let version = self.protocol_version;
        out.extend(self.start(version)?);
        Ok(out)
    }

    /// End-to-end encrypts one frame into `out`. Never passes a frame through in clear.
    pub fn encrypt(
        &mut self,
        kind: StreamKind,
        frame: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), DaveError> {
        if !self.can_encrypt() {
            return Err(DaveError::NotReady);
        }
        let session = self.session.as_mut().ok_or(DaveError::NotReady)?;
        let (media, codec) = match kind {
            StreamKind::Video => (MediaType::VIDEO, Codec::H264),
            StreamKind::Audio => (MediaType::AUDIO, Codec::OPUS),
        };
        // davey lets Opus silence frames through unencrypted, as the DAVE spec allows; we
        // never pass anything in clear, so those are refused here and the caller skips them.
        if kind == StreamKind::Audio && frame == davey::OPUS_SILENCE_PACKET {
            return Err(DaveError::Encrypt(
                "an Opus silence frame is not sent".into(),
            ));
        }
        // A NAL unit other than the last one must not end in a zero byte: the RTP
        // packetizer would take it for trailing_zero_8bits and cut it, breaking the frame's
        // authentication. Ciphertext is random, so a fresh nonce fixes it.
        for _ in 0..8 {
            session
                .encrypt_into(media, codec, frame, out)
                .map_err(|e| match e {
                    davey::errors::EncryptError::NotReady => DaveError::NotReady,
                    other @ davey::errors::EncryptError::EncryptionFailed(_) => {
                        DaveError::Encrypt(other.to_string())
                    }
                })?;
            if kind == StreamKind::Audio || !inner_nal_ends_in_zero(out) {
                return Ok(());
            }
        }
        Err(DaveError::Encrypt(
            "every attempt left a NAL unit ending in a zero byte".into(),
        ))
    }
}

fn transition_ready(id: u16) -> Outgoing {
    Outgoing::Json {
        op: op::TRANSITION_READY,
        d: json!({ "transition_id": id }),
    }
}

/// Whether a NAL unit before the last one in `data` ends in 0x00. davey writes every start
/// code in its output as `00 00 00 01`, so the byte before that is the NAL's last.
fn inner_nal_ends_in_zero(data: &[u8]) -> bool {
    (2..data.len().saturating_sub(2))
        .any(|i| data[i..i + 3] == [0, 0, 1] && data[i - 1] == 0 && i >= 2 && data[i - 2] == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_binary_frames_carry_a_sequence_and_clients_do_not() {
        let (seq, op, payload) = split_server_frame(&[0x01, 0x02, 25, 9, 8]).unwrap();
        assert_eq!((seq, op, payload), (0x0102, 25, &[9, 8][..]));
        assert!(matches!(
            split_server_frame(&[0, 1]),
            Err(DaveError::ShortFrame(2))
        ));
        assert_eq!(Outgoing::binary_frame(26, &[1, 2, 3]), [26, 1, 2, 3]);
        let (id, msg) = split_transition(29, &[0, 7, 0xAA]).unwrap();
        assert_eq!((id, msg), (7, &[0xAA][..]));
        assert!(split_transition(30, &[0, 7]).is_err());
    }

    #[test]
    fn nothing_is_encrypted_before_the_group_is_ready() {
        let mut dave = Dave::new(1, 2);
        let mut out = Vec::new();
        assert!(matches!(
            dave.encrypt(StreamKind::Audio, &[0xFC, 1, 2], &mut out),
            Err(DaveError::NotReady)
        ));
        let sent = dave.start(1).unwrap();
        assert!(matches!(&sent[..], [Outgoing::Binary { op: 26, payload }] if !payload.is_empty()));
        assert!(!dave.can_encrypt());
        assert!(matches!(
            dave.encrypt(StreamKind::Video, &[0, 0, 0, 1, 0x65, 1], &mut out),
            Err(DaveError::NotReady)
        ));
        assert!(out.is_empty(), "nothing written");
        assert!(matches!(
            dave.start(0),
            Err(DaveError::UnsupportedVersion(0))
        ));
        assert!(matches!(
            dave.start(9),
            Err(DaveError::UnsupportedVersion(9))
        ));
    }

    #[test]
    fn transitions_are_acknowledged_unless_immediate() {
        let mut dave = Dave::new(1, 2);
        dave.start(1).unwrap();
        let out = dave
            .handle_json(
                op::PREPARE_TRANSITION,
                &json!({"transition_id": 5, "protocol_version": 1}),
            )
            .unwrap();
        assert_eq!(
            out,
            [Outgoing::Json {
                op: 23,
                d: json!({"transition_id": 5})
            }]
        );
        let out = dave
            .handle_json(
                op::PREPARE_TRANSITION,
                &json!({"transition_id": 0, "protocol_version": 1}),
            )
            .unwrap();
        assert!(out.is_empty());
        assert!(
            dave.handle_json(op::PREPARE_TRANSITION, &json!({}))
                .is_err()
        );
        // A new epoch 1 means a new group: a fresh key package.
        let out = dave
            .handle_json(
                op::PREPARE_EPOCH,
                &json!({"epoch": 1, "protocol_version": 1}),
            )
            .unwrap();
        assert!(matches!(&out[..], [Outgoing::Binary { op: 26, .. }]));
    }

    #[test]
    fn inner_nal_units_ending_in_zero_are_found() {
        assert!(!inner_nal_ends_in_zero(&[
            0, 0, 0, 1, 0x67, 5, 0, 0, 0, 1, 0x65, 0
        ]));
        assert!(inner_nal_ends_in_zero(&[
            0, 0, 0, 1, 0x67, 0, 0, 0, 0, 1, 0x65, 1
        ]));
        assert!(!inner_nal_ends_in_zero(&[
            0, 0, 0, 1, 0x67, 0, 0, 0, 1, 0x65, 1
        ]));
        assert!(!inner_nal_ends_in_zero(&[
            0, 0, 1, 0x67, 3, 0, 0, 1, 0x65, 1
        ]));
    }
}
