//! Gateway v10 over a plain websocket: HELLO, IDENTIFY → READY + `GUILD_CREATE`, heartbeats,
//! RESUME with replay, invalid sessions, and the close codes Discord uses.

use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::{ConnCmd, Session, Shared, fixtures};

pub(super) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(connection(stream, shared.clone()));
    }
}

fn op(op: u8, d: &Value) -> Message {
    Message::Text(json!({"op": op, "d": d}).to_string())
}

#[allow(
    clippy::result_large_err,
    reason = "the handshake callback's type is tungstenite's"
)]
async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let mut query = String::new();
    let callback = |req: &tokio_tungstenite::tungstenite::handshake::server::Request, resp| {
        req.uri().query().unwrap_or_default().clone_into(&mut query);
        Ok(resp)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    if !query.split('&').any(|p| p == "v=10") {
        shared.violation(format!(
            "gateway connected without ?v=10 (query: {query:?})"
        ));
    }
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<ConnCmd>();
    if sink
        .send(op(
            10,
            &json!({"heartbeat_interval": shared.heartbeat_interval_ms}),
        ))
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            incoming = source.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(_))) => {
                        shared.violation("bot sent a binary gateway frame; we asked for JSON".into());
                        continue;
                    }
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                    Some(Ok(_)) => continue,
                };
                let replies = handle(&shared, &text, &tx);
                for reply in replies {
                    match reply {
                        Reply::Send(m) => if sink.send(m).await.is_err() { return },
                        Reply::Close(code, reason) => {
                            let frame = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
                            let _ = sink.send(Message::Close(Some(frame))).await;
                            return;
                        }
                    }
                }
            }
            cmd = rx.recv() => match cmd {
                Some(ConnCmd::Send(text)) => if sink.send(Message::Text(text)).await.is_err() { break },
                Some(ConnCmd::Drop) | None => return,
            }
        }
    }
    detach(&shared, &tx);
}

/// The connection is gone: the session (if this was its connection) waits for a RESUME.
fn detach(shared: &Shared, tx: &mpsc::UnboundedSender<ConnCmd>) {
    let mut state = shared.lock();
    if let Some(session) = state.session.as_mut()
        && session.conn.as_ref().is_some_and(|c| c.same_channel(tx))
    {
        session.conn = None;
    }
}

enum Reply {
    Send(Message),
    Close(u16, &'static str),
}

fn handle(shared: &Shared, text: &str, tx: &mpsc::UnboundedSender<ConnCmd>) -> Vec<Reply> {
    let Ok(payload) = serde_json::from_str::<Value>(text) else {
        shared.violation(format!("gateway payload is not JSON: {text}"));
        return vec![Reply::Close(4002, "Error while decoding payload.")];
    };
    let d = payload.get("d").cloned().unwrap_or(Value::Null);
    match payload.get("op").and_then(Value::as_u64) {
        Some(1) => {
            shared.lock().heartbeats += 1;
            vec![Reply::Send(op(11, &Value::Null))]
        }
        Some(2) => identify(shared, &d, tx),
        Some(6) => resume(shared, &d, tx),
        // Presence update, voice state update, request guild members: accepted, nothing to say.
        Some(3 | 4 | 8 | 31) => vec![],
        other => {
            shared.violation(format!("unknown gateway opcode {other:?}: {text}"));
            vec![Reply::Close(4001, "Unknown opcode.")]
        }
    }
}

fn check_token(d: &Value) -> bool {
    let token = d.get("token").and_then(Value::as_str).unwrap_or_default();
    token.trim_start_matches("Bot ") == fixtures::TOKEN
}

fn identify(shared: &Shared, d: &Value, tx: &mpsc::UnboundedSender<ConnCmd>) -> Vec<Reply> {
    let mut checker = super::schema::Checker::default();
    checker.identify(d);
    for e in checker.errors {
        shared.violation(e);
    }
    if !check_token(d) {
        return vec![Reply::Close(4004, "Authentication failed.")];
    }
    let session_id = format!("session-{}", shared.snowflake());
    let shard_pair = d.get("shard").cloned().unwrap_or(json!([0, 1]));
    let guilds: Vec<Value> = shared
        .guilds
        .iter()
        .map(|g| json!({"id": g.to_string(), "unavailable": true}))
        .collect();
    let ready = json!({
        "v": 10,
        "user": fixtures::bot_user(),
        "guilds": guilds,
        "session_id": session_id,
        "resume_gateway_url": shared.gateway_url,
        "shard": shard_pair,
        "application": {"id": fixtures::APPLICATION_ID.to_string(), "flags": 0},
    });
    {
        let mut state = shared.lock();
        state.identifies += 1;
        // A new identify replaces any old session, as on Discord.
        state.session = Some(Session {
            id: session_id,
            seq: 0,
            events: Vec::new(),
            conn: Some(tx.clone()),
            valid: true,
        });
    }
    shared.dispatch("READY", ready);
    for guild in &shared.guilds {
        shared.dispatch("GUILD_CREATE", fixtures::guild_create(*guild));
    }
    vec![]
}

fn resume(shared: &Shared, d: &Value, tx: &mpsc::UnboundedSender<ConnCmd>) -> Vec<Reply> {
    let mut checker = super::schema::Checker::default();
    checker.resume(d);
    for e in checker.errors {
        shared.violation(e);
    }
    if !check_token(d) {
        return vec![Reply::Close(4004, "Authentication failed.")];
    }
    let wanted = d
        .get("session_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let from_seq = d.get("seq").and_then(Value::as_u64).unwrap_or(0);
    let mut state = shared.lock();
    state.resumes += 1;
    let Some(session) = state.session.as_mut().filter(|s| s.valid && s.id == wanted) else {
        return vec![Reply::Send(op(9, &Value::Bool(false)))];
    };
    session.conn = Some(tx.clone());
    let mut replies: Vec<Reply> = session
        .events
        .iter()
        .filter(|(seq, _)| *seq > from_seq)
        .map(|(_, text)| Reply::Send(Message::Text(text.clone())))
        .collect();
    session.seq += 1;
    let resumed = json!({"op": 0, "t": "RESUMED", "s": session.seq, "d": {}}).to_string();
    session.events.push((session.seq, resumed.clone()));
    replies.push(Reply::Send(Message::Text(resumed)));
    replies
}
