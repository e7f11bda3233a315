//! The fake's own payloads must be what serenity (and so Discord) expects; if these fail the
//! fake, not the bot, is wrong.

use lounge_tests::discord::{self, fixtures};
use serenity::all as s;

#[test]
fn fixture_payloads_deserialize_as_serenity_models() {
    for guild in [fixtures::GUILD_ID, fixtures::OTHER_GUILD_ID] {
        let g: s::Guild =
            serde_json::from_value(fixtures::guild_create(guild)).expect("guild create");
        assert_eq!(g.id.get(), guild);
        assert!(!g.members.is_empty());
        let _: s::PartialGuild =
            serde_json::from_value(fixtures::guild(guild)).expect("REST guild");
        for c in fixtures::channels(guild) {
            let _: s::GuildChannel = serde_json::from_value(c).expect("channel");
        }
    }
    let _: s::CurrentUser = serde_json::from_value(fixtures::bot_user()).expect("current user");
    let app: s::CurrentApplicationInfo =
        serde_json::from_value(fixtures::application(None)).expect("application");
    assert_eq!(app.owner.map(|u| u.id.get()), Some(fixtures::OWNER_ID));
    // The fixture's flags are the bits serenity (and Discord's docs) give the intent.
    assert_eq!(
        app.flags.map(|f| f.bits()),
        Some(fixtures::GATEWAY_MESSAGE_CONTENT_LIMITED)
    );
    assert_eq!(
        s::ApplicationFlags::GATEWAY_MESSAGE_CONTENT.bits(),
        fixtures::GATEWAY_MESSAGE_CONTENT
    );
    let app: s::CurrentApplicationInfo =
        serde_json::from_value(fixtures::application(Some(fixtures::MEMBER_ID)))
            .expect("team application");
    let team = app.team.expect("team");
    assert_eq!(team.owner_user_id.get(), fixtures::OWNER_ID);
    assert!(
        team.members
            .iter()
            .any(|m| m.user.id.get() == fixtures::MEMBER_ID)
    );
    let m: s::Member = serde_json::from_value({
        let mut m = fixtures::member(fixtures::GUILD_ID, fixtures::MEMBER_ID).unwrap();
        m["guild_id"] = serde_json::json!(fixtures::GUILD_ID.to_string());
        m
    })
    .expect("member");
    assert_eq!(m.roles.len(), 1);
}

#[test]
fn interactions_deserialize_as_serenity_models() {
    use fixtures::*;
    let data = serde_json::json!({"id": "1", "name": "ping", "type": 1, "options": [], "guild_id": GUILD_ID.to_string()});
    let v = interaction(10, "tok", GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, 2, data);
    let i: s::Interaction = serde_json::from_value(v).expect("slash interaction");
    assert!(matches!(i, s::Interaction::Command(_)));
    let message = serde_json::json!({
        "id": "77", "channel_id": GENERAL_CHANNEL_ID.to_string(), "author": bot_user(), "content": "",
        "timestamp": TIMESTAMP, "edited_timestamp": null, "tts": false, "mention_everyone": false,
        "mentions": [], "mention_roles": [], "attachments": [], "embeds": [], "pinned": false, "type": 0,
        "components": [{"type": 1, "components": [{"type": 2, "style": 2, "label": "Next", "custom_id": "x:next"}]}],
    });
    let mut v = interaction(
        11,
        "tok",
        GUILD_ID,
        GENERAL_CHANNEL_ID,
        MEMBER_ID,
        3,
        serde_json::json!({"custom_id": "x:next", "component_type": 2}),
    );
    v["message"] = message;
    let i: s::Interaction = serde_json::from_value(v).expect("component interaction");
    assert!(matches!(i, s::Interaction::Component(_)));
}

#[tokio::test]
async fn dispatched_events_deserialize_as_serenity_models() {
    // Run the events through a real websocket client so what is checked is what is sent.
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let fake = discord::FakeDiscord::start().await;
    // Identify over the gateway, as a bot would.
    let ws_url = gateway_url(&fake).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{ws_url}/?v=10&encoding=json"))
        .await
        .unwrap();
    let hello = ws.next().await.unwrap().unwrap();
    assert!(hello.to_text().unwrap().contains("heartbeat_interval"));
    let identify = serde_json::json!({"op": 2, "d": {
        "token": fixtures::TOKEN, "intents": 513, "properties": {"os": "linux", "browser": "t", "device": "t"},
        "shard": [0, 1], "compress": false, "large_threshold": 250,
    }});
    ws.send(Message::Text(identify.to_string())).await.unwrap();
    let mut next = async || -> serde_json::Value {
        serde_json::from_str(ws.next().await.unwrap().unwrap().to_text().unwrap()).unwrap()
    };
    let ready = next().await;
    assert_eq!(ready["t"], "READY");
    let _: s::Ready = serde_json::from_value(ready["d"].clone()).expect("READY");
    for _ in 0..2 {
        let g = next().await;
        assert_eq!(g["t"], "GUILD_CREATE");
        let _: s::Guild = serde_json::from_value(g["d"].clone()).expect("GUILD_CREATE");
    }
    fake.send_message(
        fixtures::GUILD_ID,
        fixtures::GENERAL_CHANNEL_ID,
        fixtures::MEMBER_ID,
        "hello",
    );
    let m = next().await;
    let msg: s::Message = serde_json::from_value(m["d"].clone()).expect("MESSAGE_CREATE");
    assert_eq!(msg.content, "hello");
    assert!(msg.member.is_some());
    fake.assert_no_violations();
}

async fn gateway_url(fake: &discord::FakeDiscord) -> String {
    let body = http_get(&fake.api_base(), "/api/v10/gateway/bot").await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["url"].as_str().unwrap().to_owned()
}

/// A minimal HTTP/1.1 GET, enough to read the fake's JSON without pulling in a client.
async fn http_get(base: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bot {}\r\nConnection: close\r\n\r\n",
        fixtures::TOKEN
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    out.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned()
}

/// A multipart message as serenity sends one: `payload_json` and `files[n]`.
fn multipart(payload: &serde_json::Value, files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "lounge-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"payload_json\"\r\n\
             Content-Type: application/json\r\n\r\n{payload}\r\n"
        )
        .as_bytes(),
    );
    for (i, (name, data)) in files.iter().enumerate() {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files[{i}]\"; \
                 filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Uploads are checked as Discord checks them: each file listed in `attachments`, each
/// `attachment://` embed image naming an uploaded file, 10 MiB in all.
#[tokio::test]
async fn uploads_are_checked_like_discords() {
    let fake = discord::FakeDiscord::start().await;
    let url = format!(
        "{}/api/v10/channels/{}/messages",
        fake.api_base(),
        discord::GENERAL_CHANNEL_ID
    );
    let post = |content_type: String, body: Vec<u8>| {
        let url = url.clone();
        async move {
            reqwest::Client::new()
                .post(url)
                .header("authorization", format!("Bot {}", fixtures::TOKEN))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let good = serde_json::json!({
        "embeds": [{"thumbnail": {"url": "attachment://poster.png"}}],
        "attachments": [{"id": 0, "filename": "poster.png"}],
    });
    let (ct, body) = multipart(&good, &[("poster.png", b"png")]);
    assert_eq!(post(ct, body).await, 200);
    let recorded = fake.requests().pop().unwrap();
    assert_eq!(recorded.files.len(), 1);
    assert_eq!(recorded.files[0].filename, "poster.png");
    assert_eq!(recorded.files[0].data, b"png");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());

    let (ct, body) = multipart(&good, &[("other.png", b"png")]);
    assert_eq!(post(ct, body).await, 400, "the thumbnail names no upload");
    let unlisted = serde_json::json!({"content": "x"});
    let (ct, body) = multipart(&unlisted, &[("poster.png", b"png")]);
    assert_eq!(post(ct, body).await, 400, "a file not in attachments");
    let big = vec![0u8; 10 * 1024 * 1024 + 1];
    let (ct, body) = multipart(&good, &[("poster.png", &big)]);
    assert_eq!(post(ct, body).await, 413, "over 10 MiB");
    assert_eq!(fake.violations().len(), 3, "{:?}", fake.violations());
}

/// With Discord's three-second window on, an interaction answered late is unknown.
#[tokio::test]
async fn a_late_first_answer_finds_the_interaction_forgotten() {
    let fake = discord::FakeDiscord::start_with(discord::Options {
        interaction_deadline: Some(std::time::Duration::from_millis(100)),
        ..discord::Options::default()
    })
    .await;
    let client = reqwest::Client::new();
    let posted: serde_json::Value = client
        .post(format!(
            "{}/api/v10/channels/{}/messages",
            fake.api_base(),
            discord::GENERAL_CHANNEL_ID
        ))
        .header("authorization", format!("Bot {}", fixtures::TOKEN))
        .json(&serde_json::json!({"content": "press me"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let message: u64 = posted["id"].as_str().unwrap().parse().unwrap();
    let i = fake.press_button(
        discord::GUILD_ID,
        discord::GENERAL_CHANNEL_ID,
        discord::MEMBER_ID,
        message,
        "x",
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let status = client
        .post(format!("{}/api/v10{}", fake.api_base(), i.callback_path()))
        .header("authorization", format!("Bot {}", fixtures::TOKEN))
        .json(&serde_json::json!({"type": 4, "data": {"content": "pong"}}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 404);
    assert!(
        fake.violations()
            .iter()
            .any(|v| v.contains("Discord has forgotten it")),
        "{:?}",
        fake.violations()
    );
}
