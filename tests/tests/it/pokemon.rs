//! The Pokémon game end to end: spawns from chat, catching, the collection, trades confirmed
//! with buttons and battles played with buttons, through the fake Discord.

use lounge_pokemon::data::dex;
use lounge_pokemon::xp::battle_exp;
use lounge_store::{Backend, NewPokemon, NewSpawn, Store};
use lounge_tests::db::TestDb;
use lounge_tests::discord::{
    GENERAL_CHANNEL_ID, GUILD_ID, Interaction, MEMBER_ID, MOD_ID, OTHER_CHANNEL_ID, OWNER_ID,
    Recorded,
};
use serde_json::{Value, json};

use crate::util::{Harness, REPLY_TIMEOUT, seed_coins};

/// Every chat message spawns (and earns experience), so tests know exactly what each does.
const EVERY_MESSAGE: [(&str, &str); 2] = [
    ("LOUNGE_GAMES__SPAWN_EVERY_MESSAGES", "1"),
    ("LOUNGE_GAMES__CHAT_XP_COOLDOWN_SECONDS", "0"),
];

fn is_spawn(r: &Recorded, channel: u64) -> bool {
    r.method == "POST"
        && r.path == format!("/channels/{channel}/messages")
        && r.text().contains("wild Pokémon appeared")
}

/// The national dex number in a spawn's artwork URL (`.../official-artwork/25.png`).
fn species_in(spawn: &Recorded) -> u16 {
    let url = spawn.embeds()[0]["image"]["url"]
        .as_str()
        .expect("the spawn has an image");
    assert!(url.contains("official-artwork"), "{url}");
    url.rsplit('/')
        .next()
        .and_then(|f| f.strip_suffix(".png"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no dex number in {url}"))
}

/// How a lazy typist writes a name: lower case, no accents.
fn sloppy(name: &str) -> String {
    name.to_lowercase().replace(['é', 'É'], "e")
}

async fn slash(h: &Harness, user: u64, name: &str, options: Value) -> (Interaction, Recorded) {
    let skip = h.fake.requests().len();
    let i = h
        .fake
        .send_slash(GUILD_ID, GENERAL_CHANNEL_ID, user, name, options);
    let r = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| r.path == i.callback_path())
        .await;
    (i, r)
}

async fn press(h: &Harness, user: u64, message: u64, custom_id: &str) -> Recorded {
    press_for(h, user, message, custom_id).await.1
}

async fn press_for(
    h: &Harness,
    user: u64,
    message: u64,
    custom_id: &str,
) -> (Interaction, Recorded) {
    let skip = h.fake.requests().len();
    let i = h
        .fake
        .press_button(GUILD_ID, GENERAL_CHANNEL_ID, user, message, custom_id);
    let r = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| r.path == i.callback_path())
        .await;
    (i, r)
}

fn buttons(r: &Recorded) -> Vec<(String, String, bool)> {
    r.body
        .pointer("/data/components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .map(|b| {
            (
                b["custom_id"].as_str().unwrap_or_default().to_owned(),
                b["label"].as_str().unwrap_or_default().to_owned(),
                b["disabled"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

fn button_ending(r: &Recorded, suffix: &str) -> String {
    buttons(r)
        .into_iter()
        .map(|(id, _, _)| id)
        .find(|id| id.ends_with(suffix))
        .unwrap_or_else(|| panic!("no `{suffix}` button in {}", r.body))
}

fn message_id(h: &Harness, i: &Interaction) -> u64 {
    h.fake.original_message(i).expect("the reply's message")["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a message id")
}

fn is_private(r: &Recorded) -> bool {
    r.body["data"]["flags"] == 64
}

async fn chat_spawns_and_the_first_right_name_catches(backend: Backend) {
    let h = Harness::start_with_env(TestDb::new(backend).await, &EVERY_MESSAGE).await;
    let g = GENERAL_CHANNEL_ID;

    // Commands are not chat: a prefix command does not spawn anything.
    let skip = h.fake.requests().len();
    let balance = h.ask(GUILD_ID, g, MEMBER_ID, "!balance").await;
    assert!(balance.contains("has 0 coins"), "{balance}");

    h.fake
        .send_message(GUILD_ID, g, MEMBER_ID, "anyone around?");
    let spawn = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| is_spawn(r, g))
        .await;
    let spawns = h
        .fake
        .requests()
        .iter()
        .skip(skip)
        .filter(|r| is_spawn(r, g))
        .count();
    assert_eq!(spawns, 1, "only the chat message should spawn");
    let name = dex().species_by_num(species_in(&spawn)).unwrap().name;

    let (_, wrong) = slash(
        &h,
        MEMBER_ID,
        "catch",
        json!([{"name": "name", "type": 3, "value": "definitelynotapokemon"}]),
    )
    .await;
    assert!(
        wrong.text().contains("That's not it") && is_private(&wrong),
        "{}",
        wrong.body
    );

    let (_, caught) = slash(
        &h,
        MEMBER_ID,
        "catch",
        json!([{"name": "name", "type": 3, "value": sloppy(name)}]),
    )
    .await;
    let text = caught.text();
    assert!(
        text.contains("caught a level") && text.contains(name) && !is_private(&caught),
        "{text}"
    );

    // Second comer: told, privately, who was first.
    let (_, late) = slash(
        &h,
        OWNER_ID,
        "catch",
        json!([{"name": "name", "type": 3, "value": name}]),
    )
    .await;
    assert!(
        late.text().contains("Too late") && late.text().contains(&MEMBER_ID.to_string()),
        "{}",
        late.text()
    );
    assert!(is_private(&late));

    let (_, list) = slash(
        &h,
        MEMBER_ID,
        "pokemon",
        json!([{"name": "list", "type": 1, "options": []}]),
    )
    .await;
    assert!(list.text().contains(name), "{}", list.text());
    let (_, nobody) = slash(
        &h,
        OWNER_ID,
        "pokemon",
        json!([{"name": "list", "type": 1, "options": []}]),
    )
    .await;
    assert!(
        nobody.text().contains("don't have any Pokémon"),
        "{}",
        nobody.text()
    );

    let (_, dex_reply) = slash(&h, MEMBER_ID, "pokedex", json!([])).await;
    assert!(
        dex_reply.text().contains("**1/1025** species"),
        "{}",
        dex_reply.text()
    );

    // Catching paid the reward, which buys a ball.
    let (_, bag) = slash(
        &h,
        MEMBER_ID,
        "pokemon",
        json!([{"name": "bag", "type": 1, "options": []}]),
    )
    .await;
    assert!(bag.text().contains("Coins: 10"), "{}", bag.text());

    // Chatting now trains the new Pokémon (experience is saved before the next spawn posts).
    let store = h.db.store().await;
    let before = store.selected_pokemon(MEMBER_ID).await.unwrap().unwrap();
    let skip = h.fake.requests().len();
    h.fake
        .send_message(GUILD_ID, g, MEMBER_ID, "look what I caught");
    h.fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| is_spawn(r, g))
        .await;
    let after = store.pokemon(before.id).await.unwrap().unwrap();
    assert!(
        after.exp > before.exp && after.friendship > before.friendship,
        "{before:?} -> {after:?}"
    );

    // The server sends spawns to one channel; chat elsewhere still counts.
    let moved = h
        .ask(
            GUILD_ID,
            g,
            OWNER_ID,
            &format!("!pokemon spawnchannel <#{OTHER_CHANNEL_ID}>"),
        )
        .await;
    assert!(moved.contains("will appear in"), "{moved}");
    let skip = h.fake.requests().len();
    h.fake.send_message(GUILD_ID, g, MEMBER_ID, "more chat");
    h.fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| is_spawn(r, OTHER_CHANNEL_ID))
        .await;

    // A Master Ball from the shop catches without a name.
    store.adjust_currency(MEMBER_ID, 5_000).await.unwrap();
    let (_, bought) = slash(
        &h,
        MEMBER_ID,
        "pokemon",
        json!([{"name": "buy", "type": 1, "options": [{"name": "ball", "type": 4, "value": 3}]}]),
    )
    .await;
    assert!(bought.text().contains("1 Master Ball"), "{}", bought.text());
    let skip = h.fake.requests().len();
    let i = h.fake.send_slash(
        GUILD_ID,
        OTHER_CHANNEL_ID,
        MEMBER_ID,
        "throw",
        json!([{"name": "ball", "type": 4, "value": 3}]),
    );
    let thrown = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| r.path == i.callback_path())
        .await;
    assert!(
        thrown.text().contains("with a Master Ball"),
        "{}",
        thrown.text()
    );
    assert_eq!(store.item_count(MEMBER_ID, "master-ball").await.unwrap(), 0);
    assert_eq!(store.owned_pokemon(MEMBER_ID).await.unwrap().len(), 2);
    store.close().await;
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_spawns_and_the_first_right_name_catches_on_sqlite() {
    chat_spawns_and_the_first_right_name_catches(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_spawns_and_the_first_right_name_catches_on_postgres() {
    chat_spawns_and_the_first_right_name_catches(Backend::Postgres).await;
}

/// Gives `user` a Pokémon in the stored game (a spawn and its catch), before the bot starts.
async fn give(store: &Store, user: u64, species: &str, level: u8, moves: &[&str]) -> i64 {
    let d = dex();
    let s = d.species_named(species).unwrap();
    let spawn = store
        .create_spawn(&NewSpawn {
            guild: GUILD_ID,
            channel: 1,
            species: s.num,
            level,
            shiny: false,
            nature: 0,
            ivs: [31; 6],
        })
        .await
        .unwrap();
    let new = NewPokemon {
        species: s.num,
        level,
        exp: s.growth_rate.exp_for_level(level),
        nature: 0,
        ivs: [31; 6],
        shiny: false,
        friendship: 70,
        moves: moves.iter().map(|m| d.move_named(m).unwrap().num).collect(),
    };
    store
        .catch_spawn(spawn, user, &new, None, 0)
        .await
        .unwrap()
        .id
}

/// `/trade <sub>` options as Discord sends them.
fn trade_sub(sub: &str, options: Value) -> Value {
    json!([{"name": sub, "type": 1, "options": options}])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trade_happens_only_when_both_confirm() {
    let db = TestDb::sqlite();
    let (mine, theirs) = {
        let store = db.store().await;
        let mine = give(&store, MEMBER_ID, "Pikachu", 10, &["Thunder Shock"]).await;
        let theirs = give(&store, OWNER_ID, "Eevee", 10, &["Tackle"]).await;
        store.close().await;
        (mine, theirs)
    };
    seed_coins(&db, MEMBER_ID, 100).await;
    let h = Harness::start(db).await;
    let check = h.db.store().await;

    // Nothing to change before a trade exists.
    let (_, none) = slash(&h, MEMBER_ID, "trade", trade_sub("confirm", json!([]))).await;
    assert!(
        is_private(&none) && none.text().contains("not in a trade"),
        "{}",
        none.text()
    );

    // The invitation: only the invitee can accept.
    let (i, invite) = slash(
        &h,
        MEMBER_ID,
        "trade",
        trade_sub(
            "start",
            json!([{"name": "user", "type": 6, "value": OWNER_ID.to_string()}]),
        ),
    )
    .await;
    assert!(
        invite.text().contains("wants to trade"),
        "{}",
        invite.text()
    );
    let mentions = &invite.body["data"]["allowed_mentions"];
    assert_eq!(mentions["parse"], json!([]), "{mentions}");
    assert_eq!(
        mentions["users"],
        json!([OWNER_ID.to_string()]),
        "{mentions}"
    );
    let message = message_id(&h, &i);
    let accept = button_ending(&invite, ":accept");
    let early = press(&h, MEMBER_ID, message, &accept).await;
    assert!(is_private(&early), "{}", early.body);
    let bystander = press(&h, MOD_ID, message, &accept).await;
    assert!(is_private(&bystander), "{}", bystander.body);
    let open = press(&h, OWNER_ID, message, &accept).await;
    assert!(open.text().contains("Trade open"), "{}", open.text());

    // Each side adds; an offered Pokémon can't be released, nor someone else's offered.
    let (_, added) = slash(
        &h,
        MEMBER_ID,
        "trade",
        trade_sub(
            "add",
            json!([
                {"name": "pokemon", "type": 3, "value": mine.to_string()},
                {"name": "coins", "type": 4, "value": 40},
            ]),
        ),
    )
    .await;
    assert!(
        added.text().contains("Pikachu") && added.text().contains("40 coins"),
        "{}",
        added.text()
    );
    let (_, stolen) = slash(
        &h,
        MEMBER_ID,
        "trade",
        trade_sub(
            "add",
            json!([{"name": "pokemon", "type": 3, "value": theirs.to_string()}]),
        ),
    )
    .await;
    assert!(
        is_private(&stolen) && stolen.text().contains("doesn't belong"),
        "{}",
        stolen.text()
    );
    let (_, held) = slash(
        &h,
        MEMBER_ID,
        "pokemon",
        json!([{"name": "release", "type": 1, "options": [{"name": "id", "type": 4, "value": mine}]}]),
    )
    .await;
    assert!(
        is_private(&held) && held.text().contains("offered in an open trade"),
        "{}",
        held.text()
    );
    let (_, rich) = slash(
        &h,
        MEMBER_ID,
        "trade",
        trade_sub("add", json!([{"name": "coins", "type": 4, "value": 61}])),
    )
    .await;
    assert!(
        is_private(&rich) && rich.text().contains("enough coins"),
        "{}",
        rich.text()
    );

    // A confirmation is cleared by any change, so nobody is held to a deal they didn't see.
    let (_, first) = slash(&h, MEMBER_ID, "trade", trade_sub("confirm", json!([]))).await;
    assert!(
        first.text().contains(&format!("✅ <@{MEMBER_ID}>"))
            && first.text().contains(&format!("Waiting for <@{OWNER_ID}>")),
        "{}",
        first.text()
    );
    assert_eq!(check.pokemon(mine).await.unwrap().unwrap().owner, MEMBER_ID);
    let (_, theirs_added) = slash(
        &h,
        OWNER_ID,
        "trade",
        trade_sub(
            "add",
            json!([{"name": "pokemon", "type": 3, "value": format!("#{theirs}")}]),
        ),
    )
    .await;
    assert!(
        theirs_added.text().contains("Eevee")
            && theirs_added.text().contains(&format!("⏳ <@{MEMBER_ID}>")),
        "{}",
        theirs_added.text()
    );
    let (_, owner_ok) = slash(&h, OWNER_ID, "trade", trade_sub("confirm", json!([]))).await;
    assert!(
        owner_ok.text().contains("Waiting for"),
        "{}",
        owner_ok.text()
    );
    assert_eq!(
        check.pokemon(theirs).await.unwrap().unwrap().owner,
        OWNER_ID
    );

    let (_, done) = slash(&h, MEMBER_ID, "trade", trade_sub("confirm", json!([]))).await;
    assert!(done.text().contains("Trade complete"), "{}", done.text());
    assert_eq!(check.pokemon(mine).await.unwrap().unwrap().owner, OWNER_ID);
    assert_eq!(
        check.pokemon(theirs).await.unwrap().unwrap().owner,
        MEMBER_ID
    );
    assert_eq!(check.balance(MEMBER_ID).await.unwrap(), 60);
    assert_eq!(check.balance(OWNER_ID).await.unwrap(), 40);
    let (_, over) = slash(&h, OWNER_ID, "trade", trade_sub("show", json!([]))).await;
    assert!(
        is_private(&over) && over.text().contains("not in a trade"),
        "{}",
        over.text()
    );

    // A declined invitation opens nothing; a cancelled trade frees what it held.
    let (i, invite) = slash(
        &h,
        OWNER_ID,
        "trade",
        trade_sub(
            "start",
            json!([{"name": "user", "type": 6, "value": MEMBER_ID.to_string()}]),
        ),
    )
    .await;
    let message = message_id(&h, &i);
    let declined = press(&h, MEMBER_ID, message, &button_ending(&invite, ":decline")).await;
    assert!(declined.text().contains("declined"), "{}", declined.text());
    let (_, nothing) = slash(&h, OWNER_ID, "trade", trade_sub("show", json!([]))).await;
    assert!(is_private(&nothing), "{}", nothing.text());

    let (i, invite) = slash(
        &h,
        OWNER_ID,
        "trade",
        trade_sub(
            "start",
            json!([{"name": "user", "type": 6, "value": MEMBER_ID.to_string()}]),
        ),
    )
    .await;
    let message = message_id(&h, &i);
    press(&h, MEMBER_ID, message, &button_ending(&invite, ":accept")).await;
    slash(
        &h,
        OWNER_ID,
        "trade",
        trade_sub(
            "add",
            json!([{"name": "pokemon", "type": 3, "value": mine.to_string()}]),
        ),
    )
    .await;
    assert!(check.is_offered(mine).await.unwrap());
    let (_, cancelled) = slash(&h, MEMBER_ID, "trade", trade_sub("cancel", json!([]))).await;
    assert!(
        cancelled.text().contains("cancelled the trade"),
        "{}",
        cancelled.text()
    );
    assert!(!check.is_offered(mine).await.unwrap());
    assert_eq!(check.pokemon(mine).await.unwrap().unwrap().owner, OWNER_ID);
    check.close().await;
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wild_battle_is_played_to_the_end_with_buttons() {
    let db = TestDb::sqlite();
    {
        let store = db.store().await;
        give(
            &store,
            MEMBER_ID,
            "Mewtwo",
            100,
            &["Psychic", "Aura Sphere", "Ice Beam", "Thunderbolt"],
        )
        .await;
        store.close().await;
    }
    let h = Harness::start(db).await;
    let (i, start) = slash(
        &h,
        MEMBER_ID,
        "battle",
        json!([{"name": "wild", "type": 1, "options": []}]),
    )
    .await;
    assert!(start.text().contains("wants to battle"), "{}", start.text());
    let message = message_id(&h, &i);
    let moves = buttons(&start);
    assert!(
        moves
            .iter()
            .any(|(_, label, _)| label.starts_with("Psychic")),
        "{moves:?}"
    );

    // Only the trainer plays.
    let first_move = moves[0].0.clone();
    let refused = press(&h, OWNER_ID, message, &first_move).await;
    assert!(is_private(&refused));

    let mut last = start;
    let mut turns = 0;
    let mut moves_used = 0;
    while !buttons(&last).is_empty() {
        turns += 1;
        assert!(turns <= 200, "the battle never ended: {}", last.body);
        let (custom_id, _, _) = buttons(&last)
            .into_iter()
            .find(|(id, _, disabled)| !disabled && !id.ends_with(":run"))
            .expect("a usable move");
        last = press(&h, MEMBER_ID, message, &custom_id).await;
        assert_eq!(last.body["type"], 7, "{}", last.body);
        if last.text().contains(" used ") {
            moves_used += 1;
        }
    }
    assert!(moves_used > 0, "no turn said who used what");
    let end = last.text();
    assert!(
        end.contains("You won!") || end.contains("fainted. Better luck") || end.contains("draw"),
        "{end}"
    );
    let store = h.db.store().await;
    let battles: i64 = sqlx::Row::get(
        &sqlx::query(
            "SELECT COUNT(*) FROM pokemon_battles WHERE challenger_id = $1 AND turns = $2",
        )
        .bind(MEMBER_ID as i64)
        .bind(i64::from(turns))
        .fetch_one(store.pool())
        .await
        .unwrap(),
        0,
    );
    assert_eq!(battles, 1, "the result is stored");
    if end.contains("You won!") {
        assert_eq!(store.battle_record(MEMBER_ID).await.unwrap(), (1, 0));
        assert_eq!(store.balance(MEMBER_ID).await.unwrap(), 15);
    }
    store.close().await;
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_collection_can_be_named_protected_and_released() {
    let db = TestDb::sqlite();
    let id = {
        let store = db.store().await;
        let id = give(&store, MEMBER_ID, "Flabébé", 12, &["Tackle"]).await;
        store.close().await;
        id
    };
    let h = Harness::start(db).await;
    let sub = |name: &str, options: Value| json!([{"name": name, "type": 1, "options": options}]);
    let id_option = json!([{"name": "id", "type": 4, "value": id}]);

    let (_, nick) = slash(
        &h,
        MEMBER_ID,
        "pokemon",
        sub(
            "nick",
            json!([{"name": "id", "type": 4, "value": id}, {"name": "nickname", "type": 3, "value": "Petal"}]),
        ),
    )
    .await;
    assert!(nick.text().contains("Petal"), "{}", nick.text());
    let (_, info) = slash(&h, MEMBER_ID, "pokemon", sub("info", json!([]))).await;
    let text = info.text();
    // The data spells it with combining accents, which a member's keyboard may not.
    let species = dex().species_named("Flabébé").unwrap().name;
    assert!(
        text.contains("Petal") && text.contains(species) && text.contains("level 12"),
        "{text}"
    );
    let (_, filtered) = slash(
        &h,
        MEMBER_ID,
        "pokemon",
        sub(
            "list",
            json!([{"name": "name", "type": 3, "value": "flabebe"}]),
        ),
    )
    .await;
    assert!(filtered.text().contains("Petal"), "{}", filtered.text());

    // A favourite can't be released.
    slash(
        &h,
        MEMBER_ID,
        "pokemon",
        sub("favourite", id_option.clone()),
    )
    .await;
    let (_, refused) = slash(&h, MEMBER_ID, "pokemon", sub("release", id_option.clone())).await;
    assert!(
        is_private(&refused) && refused.text().contains("favourite"),
        "{}",
        refused.text()
    );
    slash(
        &h,
        MEMBER_ID,
        "pokemon",
        sub("favourite", id_option.clone()),
    )
    .await;

    // Someone else's Pokémon can't be released; one's own only after confirming.
    let (_, theft) = slash(&h, OWNER_ID, "pokemon", sub("release", id_option.clone())).await;
    assert!(is_private(&theft), "{}", theft.body);
    let (i, ask) = slash(&h, MEMBER_ID, "pokemon", sub("release", id_option.clone())).await;
    assert!(ask.text().contains("can't be undone"), "{}", ask.text());
    let message = message_id(&h, &i);
    let yes = button_ending(&ask, ":yes");
    let not_yours = press(&h, OWNER_ID, message, &yes).await;
    assert!(is_private(&not_yours));
    let store = h.db.store().await;
    assert!(store.pokemon(id).await.unwrap().is_some());
    let done = press(&h, MEMBER_ID, message, &yes).await;
    assert!(done.text().contains("was released"), "{}", done.text());
    assert!(store.pokemon(id).await.unwrap().is_none());
    store.close().await;
    h.finish().await;
}

fn components_of(h: &Harness, message: u64) -> Vec<Value> {
    h.fake.message(message).expect("the battle message")["components"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_challenge_is_fought_with_private_move_choices() {
    let db = TestDb::new(Backend::Postgres).await;
    {
        let store = db.store().await;
        give(&store, MEMBER_ID, "Mewtwo", 100, &["Psychic", "Ice Beam"]).await;
        give(
            &store,
            OWNER_ID,
            "Gengar",
            100,
            &["Shadow Ball", "Sludge Bomb"],
        )
        .await;
        store.close().await;
    }
    let h = Harness::start(db).await;
    let challenge_options = |user: u64| {
        json!([{"name": "challenge", "type": 1, "options": [
            {"name": "user", "type": 6, "value": user.to_string()}
        ]}])
    };
    let (i, challenge) = slash(&h, MEMBER_ID, "battle", challenge_options(OWNER_ID)).await;
    assert!(
        challenge.text().contains("challenges you"),
        "{}",
        challenge.text()
    );
    let message = message_id(&h, &i);
    let accept = button_ending(&challenge, ":accept");
    let own_accept = press(&h, MEMBER_ID, message, &accept).await;
    assert!(
        is_private(&own_accept),
        "the challenger can't accept for the other"
    );
    let started = press(&h, OWNER_ID, message, &accept).await;
    assert_eq!(started.body["type"], 7);
    let choose = button_ending(&started, ":choose");

    let mut turns = 0;
    while !components_of(&h, message).is_empty() {
        turns += 1;
        assert!(turns <= 100, "the battle never ended");
        let skip = h.fake.requests().len();
        for player in [MEMBER_ID, OWNER_ID] {
            let (i, menu) = press_for(&h, player, message, &choose).await;
            assert!(
                is_private(&menu),
                "moves must be chosen privately: {}",
                menu.body
            );
            let private = message_id(&h, &i);
            let (custom_id, _, _) = buttons(&menu)
                .into_iter()
                .find(|(_, _, disabled)| !disabled)
                .expect("a usable move");
            let chosen = press(&h, player, private, &custom_id).await;
            assert!(chosen.text().contains("You chose"), "{}", chosen.text());
        }
        // The turn ran: the public message was edited after both chose.
        h.fake
            .wait_for_request(skip, REPLY_TIMEOUT, |r| {
                // Edits while waiting for the second choice show a ✅; the turn's does not.
                r.method == "PATCH"
                    && r.path.ends_with("/messages/@original")
                    && r.text().contains(" used ")
                    && !r.content().unwrap_or_default().contains('✅')
            })
            .await;
    }
    let text = h.fake.message(message).unwrap().to_string();
    assert!(
        text.contains("wins!") || text.contains("No winner"),
        "{text}"
    );
    let store = h.db.store().await;
    let (m, o) = (
        store.battle_record(MEMBER_ID).await.unwrap(),
        store.battle_record(OWNER_ID).await.unwrap(),
    );
    assert!(
        (m.0 + o.0, m.1 + o.1) == (1, 1) || text.contains("No winner"),
        "{m:?} {o:?}"
    );

    // A second challenge ends with a forfeit.
    let (i, challenge) = slash(&h, OWNER_ID, "battle", challenge_options(MEMBER_ID)).await;
    let message = message_id(&h, &i);
    let started = press(
        &h,
        MEMBER_ID,
        message,
        &button_ending(&challenge, ":accept"),
    )
    .await;
    let gave_up = press(&h, MEMBER_ID, message, &button_ending(&started, ":forfeit")).await;
    assert!(
        gave_up.text().contains("forfeited")
            && gave_up.text().contains(&format!("<@{OWNER_ID}> wins")),
        "{}",
        gave_up.text()
    );
    let forfeits: i64 = sqlx::Row::get(
        &sqlx::query(
            "SELECT COUNT(*) FROM pokemon_battles WHERE outcome = 'forfeit' AND winner_id = $1",
        )
        .bind(OWNER_ID as i64)
        .fetch_one(store.pool())
        .await
        .unwrap(),
        0,
    );
    assert_eq!(forfeits, 1);
    store.close().await;
    h.finish().await;
}

/// A player who doesn't choose within `games.battle_turn_seconds` loses on time: the one who
/// chose wins, the message says why, and the battle is stored as a time-out.
#[tokio::test(flavor = "multi_thread")]
async fn a_player_who_does_not_choose_in_time_loses() {
    let db = TestDb::sqlite();
    {
        let store = db.store().await;
        give(&store, MEMBER_ID, "Pikachu", 20, &["Thunder Shock"]).await;
        give(&store, OWNER_ID, "Eevee", 20, &["Tackle"]).await;
        store.close().await;
    }
    let h = Harness::start_with_env(db, &[("LOUNGE_GAMES__BATTLE_TURN_SECONDS", "3")]).await;
    let (i, challenge) = slash(
        &h,
        MEMBER_ID,
        "battle",
        json!([{"name": "challenge", "type": 1, "options": [
            {"name": "user", "type": 6, "value": OWNER_ID.to_string()}
        ]}]),
    )
    .await;
    let message = message_id(&h, &i);
    let started = press(&h, OWNER_ID, message, &button_ending(&challenge, ":accept")).await;
    let choose = button_ending(&started, ":choose");
    let skip = h.fake.requests().len();
    let (i, menu) = press_for(&h, MEMBER_ID, message, &choose).await;
    let (custom_id, _, _) = buttons(&menu)
        .into_iter()
        .find(|(_, _, disabled)| !disabled)
        .expect("a usable move");
    let chosen = press(&h, MEMBER_ID, message_id(&h, &i), &custom_id).await;
    assert!(chosen.text().contains("You chose"), "{}", chosen.text());

    // The opponent never chooses.
    let over = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| {
            r.method == "PATCH" && r.text().contains("Time's up")
        })
        .await;
    assert!(
        over.text().contains(&format!("<@{MEMBER_ID}> wins")),
        "{}",
        over.text()
    );
    assert!(
        components_of(&h, message).is_empty(),
        "buttons left after the end"
    );
    let store = h.db.store().await;
    let row = sqlx::query("SELECT winner_id, outcome FROM pokemon_battles WHERE opponent_id = $1")
        .bind(OWNER_ID as i64)
        .fetch_one(store.pool())
        .await
        .unwrap();
    let winner: Option<i64> = sqlx::Row::get(&row, 0);
    let outcome: String = sqlx::Row::get(&row, 1);
    assert_eq!(
        (winner, outcome.as_str()),
        (Some(MEMBER_ID as i64), "timeout")
    );
    store.close().await;
    h.finish().await;
}

/// `/pokemon evolve`: the item option suggests evolution items as you type; a wrong item, an
/// unknown one, someone else's Pokémon or too few coins is a private explanation with nothing
/// charged; the right one evolves the Pokémon and charges once.
#[tokio::test(flavor = "multi_thread")]
async fn an_item_evolves_a_pokemon_for_coins() {
    let db = TestDb::sqlite();
    let (pikachu, eevee) = {
        let store = db.store().await;
        let pikachu = give(&store, MEMBER_ID, "Pikachu", 10, &["Thunder Shock"]).await;
        let eevee = give(&store, MEMBER_ID, "Eevee", 10, &["Tackle"]).await;
        store.close().await;
        (pikachu, eevee)
    };
    seed_coins(&db, MEMBER_ID, 350).await;
    let h = Harness::start(db).await;
    let evolve = |id: i64, item: &str| {
        json!([{"name": "evolve", "type": 1, "options": [
            {"name": "id", "type": 4, "value": id},
            {"name": "item", "type": 3, "value": item},
        ]}])
    };

    let skip = h.fake.requests().len();
    let typing = h.fake.send_autocomplete(
        GUILD_ID,
        GENERAL_CHANNEL_ID,
        MEMBER_ID,
        "pokemon",
        json!([{"name": "evolve", "type": 1, "options": [
            {"name": "id", "type": 4, "value": pikachu},
            {"name": "item", "type": 3, "value": "thun", "focused": true},
        ]}]),
    );
    let suggested = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| r.path == typing.callback_path())
        .await;
    assert_eq!(suggested.body["type"], 8, "{}", suggested.body);
    let choices: Vec<&str> = suggested.body["data"]["choices"]
        .as_array()
        .expect("choices")
        .iter()
        .filter_map(|c| c["value"].as_str())
        .collect();
    assert!(choices.contains(&"Thunder Stone"), "{choices:?}");
    assert!(
        choices.iter().all(|c| c.to_lowercase().contains("thun")),
        "{choices:?}"
    );

    let (_, wrong) = slash(&h, MEMBER_ID, "pokemon", evolve(pikachu, "fire stone")).await;
    assert!(
        is_private(&wrong) && wrong.text().contains("Thunder Stone → Raichu"),
        "{}",
        wrong.text()
    );
    let (_, unknown) = slash(&h, MEMBER_ID, "pokemon", evolve(pikachu, "banana")).await;
    assert!(
        is_private(&unknown)
            && unknown
                .text()
                .contains("No Pokémon evolves with \"banana\""),
        "{}",
        unknown.text()
    );
    let (_, theirs) = slash(&h, OWNER_ID, "pokemon", evolve(pikachu, "thunder stone")).await;
    assert!(
        is_private(&theirs) && theirs.text().contains("don't have a Pokémon"),
        "{}",
        theirs.text()
    );
    let store = h.db.store().await;
    let raichu = dex().species_named("Raichu").unwrap().num;
    assert_eq!(
        store.balance(MEMBER_ID).await.unwrap(),
        350,
        "charged for a refusal"
    );
    assert_ne!(
        store.pokemon(pikachu).await.unwrap().unwrap().species,
        raichu
    );

    let (_, done) = slash(&h, MEMBER_ID, "pokemon", evolve(pikachu, "thunderstone")).await;
    assert!(
        !is_private(&done) && done.text().contains("evolved into **Raichu**"),
        "{}",
        done.text()
    );
    assert_eq!(
        store.pokemon(pikachu).await.unwrap().unwrap().species,
        raichu
    );
    assert_eq!(store.balance(MEMBER_ID).await.unwrap(), 50);
    assert!(store.dex(MEMBER_ID).await.unwrap().contains(&raichu));

    let (_, again) = slash(&h, MEMBER_ID, "pokemon", evolve(pikachu, "thunder stone")).await;
    assert!(
        is_private(&again) && again.text().contains("doesn't evolve with an item"),
        "{}",
        again.text()
    );
    let (_, poor) = slash(&h, MEMBER_ID, "pokemon", evolve(eevee, "Water Stone")).await;
    assert!(
        is_private(&poor) && poor.text().contains("enough coins"),
        "{}",
        poor.text()
    );
    assert_eq!(
        store.pokemon(eevee).await.unwrap().unwrap().species,
        dex().species_named("Eevee").unwrap().num
    );
    store.close().await;
    h.finish().await;
}

/// `/pokemon team <sub>` with the subcommand's options.
fn team_options(sub: &str, options: Value) -> Value {
    json!([{"name": "team", "type": 2, "options": [{"name": sub, "type": 1, "options": options}]}])
}

fn team_set(ids: &str) -> Value {
    team_options("set", json!([{"name": "ids", "type": 3, "value": ids}]))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_team_is_set_in_order_and_bad_teams_are_refused_privately() {
    let db = TestDb::sqlite();
    let (pikachu, eevee, theirs) = {
        let store = db.store().await;
        let pikachu = give(&store, MEMBER_ID, "Pikachu", 10, &["Thunder Shock"]).await;
        let eevee = give(&store, MEMBER_ID, "Eevee", 12, &["Tackle"]).await;
        let theirs = give(&store, OWNER_ID, "Gengar", 30, &["Lick"]).await;
        store.close().await;
        (pikachu, eevee, theirs)
    };
    let h = Harness::start(db).await;

    let (_, none) = slash(&h, MEMBER_ID, "pokemon", team_options("show", json!([]))).await;
    assert!(none.text().contains("You have no team"), "{}", none.body);

    for (ids, expected) in [
        ("none".to_owned(), "List up to six".to_owned()),
        (
            format!("{pikachu}, {theirs}"),
            format!("You don't have a Pokémon #{theirs}"),
        ),
        (
            format!("{pikachu} {eevee} {pikachu}"),
            format!("#{pikachu} is in the list twice"),
        ),
        ("1, 2, 3, 4, 5, 6, 7".to_owned(), "at most 6".to_owned()),
    ] {
        let (_, refused) = slash(&h, MEMBER_ID, "pokemon", team_set(&ids)).await;
        assert!(
            is_private(&refused) && refused.text().contains(&expected),
            "`{ids}` should be refused with `{expected}`: {}",
            refused.body
        );
    }
    let store = h.db.store().await;
    assert!(store.team(MEMBER_ID).await.unwrap().is_empty());

    let (_, set) = slash(
        &h,
        MEMBER_ID,
        "pokemon",
        team_set(&format!("#{eevee}, #{pikachu}")),
    )
    .await;
    let text = set.text();
    assert!(!is_private(&set), "{}", set.body);
    let (first, second) = (
        text.find(&format!("1. `#{eevee}` **Eevee**")),
        text.find(&format!("2. `#{pikachu}` **Pikachu**")),
    );
    assert!(first.is_some() && second.is_some(), "{text}");
    let ids: Vec<i64> = store
        .team(MEMBER_ID)
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, [eevee, pikachu]);
    let (_, shown) = slash(&h, MEMBER_ID, "pokemon", team_options("show", json!([]))).await;
    assert!(
        shown.text().contains(&format!("1. `#{eevee}`")),
        "{}",
        shown.text()
    );

    let (_, cleared) = slash(&h, MEMBER_ID, "pokemon", team_options("clear", json!([]))).await;
    assert!(cleared.text().contains("cleared"), "{}", cleared.text());
    let (_, again) = slash(&h, MEMBER_ID, "pokemon", team_options("clear", json!([]))).await;
    assert!(
        is_private(&again) && again.text().contains("You have no team"),
        "{}",
        again.body
    );
    assert!(store.team(MEMBER_ID).await.unwrap().is_empty());
    store.close().await;
    h.finish().await;
}

/// Waits for the battle message's edit whose text contains `needle`.
async fn battle_edit(h: &Harness, skip: usize, needle: &str) -> Recorded {
    h.fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| {
            r.method == "PATCH"
                && r.path.ends_with("/messages/@original")
                && r.text().contains(needle)
        })
        .await
}

/// Presses Choose on the battle message and returns the private menu's message and buttons.
async fn private_menu(h: &Harness, player: u64, message: u64, choose: &str) -> (u64, Recorded) {
    let (i, menu) = press_for(h, player, message, choose).await;
    assert!(is_private(&menu), "choices are private: {}", menu.body);
    (message_id(h, &i), menu)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_team_challenge_switches_and_replaces_a_fainted_pokemon() {
    let db = TestDb::sqlite();
    let (rattata, pikachu, mewtwo) = {
        let store = db.store().await;
        let rattata = give(&store, MEMBER_ID, "Rattata", 5, &["Tackle"]).await;
        let pikachu = give(&store, MEMBER_ID, "Pikachu", 5, &["Thunder Shock"]).await;
        let mewtwo = give(&store, OWNER_ID, "Mewtwo", 60, &["Psychic"]).await;
        store.close().await;
        (rattata, pikachu, mewtwo)
    };
    let h = Harness::start(db).await;
    let (_, set) = slash(
        &h,
        MEMBER_ID,
        "pokemon",
        team_set(&format!("{rattata}, {pikachu}")),
    )
    .await;
    assert!(set.text().contains("team is ready"), "{}", set.body);
    let store = h.db.store().await;
    let mewtwo_before = store.pokemon(mewtwo).await.unwrap().unwrap();

    let (i, challenge) = slash(
        &h,
        MEMBER_ID,
        "battle",
        json!([{"name": "challenge", "type": 1, "options": [
            {"name": "user", "type": 6, "value": OWNER_ID.to_string()}
        ]}]),
    )
    .await;
    assert!(
        challenge
            .text()
            .contains("team of 2: Rattata (level 5), Pikachu (level 5)"),
        "{}",
        challenge.text()
    );
    let message = message_id(&h, &i);
    let started = press(&h, OWNER_ID, message, &button_ending(&challenge, ":accept")).await;
    assert!(started.text().contains("●● 2/2 left"), "{}", started.text());
    let choose = button_ending(&started, ":choose");

    // Turn 1: the member switches to Pikachu, which Mewtwo knocks out.
    let skip = h.fake.requests().len();
    let (menu_message, menu) = private_menu(&h, MEMBER_ID, message, &choose).await;
    let switch = buttons(&menu)
        .into_iter()
        .find(|(id, _, _)| id.contains(":sw:"))
        .unwrap_or_else(|| panic!("no switch button: {}", menu.body));
    assert!(switch.1.starts_with("Switch to Pikachu"), "{switch:?}");
    assert!(
        buttons(&menu)
            .iter()
            .any(|(_, label, _)| label.starts_with("Tackle")),
        "{}",
        menu.body
    );
    let chosen = press(&h, MEMBER_ID, menu_message, &switch.0).await;
    assert!(
        chosen.text().contains("You chose to send in Pikachu"),
        "{}",
        chosen.text()
    );
    let (menu_message, menu) = private_menu(&h, OWNER_ID, message, &choose).await;
    press(&h, OWNER_ID, menu_message, &buttons(&menu)[0].0).await;
    let turn = battle_edit(&h, skip, "fainted!").await;
    let text = turn.text();
    let switched = text.find("sent out **Pikachu**").expect(&text);
    let fainted = text.find("Pikachu (").expect(&text);
    assert!(
        switched < fainted,
        "the switch comes before the attack: {text}"
    );
    assert!(
        text.contains("●○ 1/2 left") && text.contains("Send in a Pokémon"),
        "{text}"
    );

    // Only the member chooses now, and only whom to send in.
    let wait = press(&h, OWNER_ID, message, &choose).await;
    assert!(
        is_private(&wait) && wait.text().contains("wait"),
        "{}",
        wait.body
    );
    let skip = h.fake.requests().len();
    let (menu_message, menu) = private_menu(&h, MEMBER_ID, message, &choose).await;
    let options = buttons(&menu);
    assert_eq!(options.len(), 1, "{}", menu.body);
    assert!(
        options[0].0.contains(":sw:0") && options[0].1.starts_with("Send in Rattata"),
        "{options:?}"
    );
    press(&h, MEMBER_ID, menu_message, &options[0].0).await;
    battle_edit(&h, skip, "sent out **Rattata**").await;

    // Turn 2: nobody is left on the bench, so no switch; Rattata falls and Mewtwo wins.
    let skip = h.fake.requests().len();
    let (menu_message, menu) = private_menu(&h, MEMBER_ID, message, &choose).await;
    assert!(
        buttons(&menu).iter().all(|(id, _, _)| !id.contains(":sw:")),
        "{}",
        menu.body
    );
    press(&h, MEMBER_ID, menu_message, &buttons(&menu)[0].0).await;
    let (menu_message, menu) = private_menu(&h, OWNER_ID, message, &choose).await;
    press(&h, OWNER_ID, menu_message, &buttons(&menu)[0].0).await;
    let end = battle_edit(&h, skip, "wins!").await;
    let text = end.text();
    assert!(
        text.contains(&format!("<@{OWNER_ID}> wins!")) && text.contains("○○ 0/2 left"),
        "{text}"
    );
    assert!(components_of(&h, message).is_empty());
    assert_eq!(store.battle_record(OWNER_ID).await.unwrap(), (1, 0));
    assert_eq!(store.battle_record(MEMBER_ID).await.unwrap(), (0, 1));

    // Both fainted Pokémon count for the winner's experience.
    let species = |name: &str| dex().species_named(name).unwrap().num;
    let expected = battle_exp(species("Rattata"), 5) + battle_exp(species("Pikachu"), 5);
    assert!(
        text.contains(&format!("Mewtwo gained {expected} XP")),
        "{text}"
    );
    let mewtwo_after = store.pokemon(mewtwo).await.unwrap().unwrap();
    assert_eq!(mewtwo_after.exp, mewtwo_before.exp + expected);
    store.close().await;
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wild_team_battle_switches_and_shares_the_experience() {
    let db = TestDb::sqlite();
    let (rattata, mewtwo) = {
        let store = db.store().await;
        let rattata = give(&store, MEMBER_ID, "Rattata", 3, &["Tackle"]).await;
        let mewtwo = give(&store, MEMBER_ID, "Mewtwo", 60, &["Psychic", "Shadow Ball"]).await;
        store.set_team(MEMBER_ID, &[rattata, mewtwo]).await.unwrap();
        store.close().await;
        (rattata, mewtwo)
    };
    let h = Harness::start(db).await;
    let store = h.db.store().await;
    let mut before = Vec::new();
    for id in [rattata, mewtwo] {
        before.push(store.pokemon(id).await.unwrap().unwrap().exp);
    }
    let (i, start) = slash(
        &h,
        MEMBER_ID,
        "battle",
        json!([{"name": "wild", "type": 1, "options": []}]),
    )
    .await;
    let message = message_id(&h, &i);
    // The lead is the team's first; Run sits beside its moves, switching on the next row.
    let rows = start.body.pointer("/data/components").unwrap().clone();
    assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
    let switch = button_ending(&start, ":sw:1");
    assert!(
        start.text().contains("**Rattata** · Lv 3"),
        "{}",
        start.text()
    );

    let mut last = press(&h, MEMBER_ID, message, &switch).await;
    assert!(
        last.text().contains("sent out **Mewtwo**") && last.text().contains("**Mewtwo** · Lv 60"),
        "{}",
        last.text()
    );
    let mut turns = 0;
    while !buttons(&last).is_empty() {
        turns += 1;
        assert!(turns <= 100, "the battle never ended: {}", last.body);
        // Alternate Psychic and Shadow Ball: no wild Pokémon is immune to both.
        let moves: Vec<String> = buttons(&last)
            .into_iter()
            .filter(|(id, _, disabled)| id.contains(":mv:") && !disabled)
            .map(|(id, _, _)| id)
            .collect();
        let choice = if moves.is_empty() {
            // Only a replacement to choose: Mewtwo can't faint here, but Rattata could.
            button_ending(&last, ":sw:1")
        } else {
            moves[turns % moves.len()].clone()
        };
        last = press(&h, MEMBER_ID, message, &choice).await;
    }
    let end = last.text();
    assert!(end.contains("You won!"), "{end}");
    // The wild Pokémon's species and level, from the picture and the intro.
    let url = start.embeds()[0]["thumbnail"]["url"].as_str().unwrap();
    let species: u16 = url
        .rsplit('/')
        .next()
        .and_then(|f| f.strip_suffix(".png"))
        .and_then(|n| n.parse().ok())
        .unwrap();
    let level: u8 = start
        .text()
        .split("(level ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    let expected = battle_exp(species, level);
    for (id, exp_before, name) in [
        (rattata, before[0], "Rattata"),
        (mewtwo, before[1], "Mewtwo"),
    ] {
        let after = store.pokemon(id).await.unwrap().unwrap();
        assert_eq!(after.exp, exp_before + expected, "{name}: {end}");
    }
    store.close().await;
    h.finish().await;
}

/// The computer's Pokémon shown in a battle state: (species name, level) from the second
/// field ("**Graveler** · Lv 27 · HP ...").
fn computer_active(r: &Recorded) -> Option<(String, u8)> {
    let value = r.embeds().first()?["fields"][1]["value"].as_str()?;
    let name = value.strip_prefix("**")?.split("**").next()?.to_owned();
    let level = value
        .split("· Lv ")
        .nth(1)?
        .split(' ')
        .next()?
        .parse()
        .ok()?;
    Some((name, level))
}

fn battle_trainer() -> Value {
    json!([{"name": "trainer", "type": 1, "options": []}])
}

/// The stored battles of a member: (outcome, npc).
async fn stored_battles(store: &Store, user: u64) -> Vec<(String, Option<String>)> {
    sqlx::query("SELECT outcome, npc FROM pokemon_battles WHERE challenger_id = $1 ORDER BY id")
        .bind(user as i64)
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| (sqlx::Row::get(r, 0), sqlx::Row::get(r, 1)))
        .collect()
}

/// `/battle trainer` won: a team led by a weak Pokémon with Mewtwo behind meets a trainer at
/// their levels' middle, with two Pokémon of its class's types, which it sends in one after
/// the other; the win pays more than a wild battle and half as much experience again.
#[tokio::test(flavor = "multi_thread")]
async fn a_trainer_battle_is_won_for_coins_and_extra_experience() {
    let db = TestDb::sqlite();
    let mewtwo = {
        let store = db.store().await;
        let rattata = give(&store, MEMBER_ID, "Rattata", 2, &["Tackle"]).await;
        // Below level 100, where experience stops counting.
        let mewtwo = give(&store, MEMBER_ID, "Mewtwo", 70, &["Psychic", "Shadow Ball"]).await;
        store.set_team(MEMBER_ID, &[rattata, mewtwo]).await.unwrap();
        store.close().await;
        mewtwo
    };
    let h = Harness::start(db).await;
    let store = h.db.store().await;
    let exp_before = store.pokemon(mewtwo).await.unwrap().unwrap().exp;
    let (i, start) = slash(&h, MEMBER_ID, "battle", battle_trainer()).await;
    let intro = start.text();
    let title = intro
        .split("**")
        .nth(1)
        .unwrap_or_else(|| panic!("no trainer named: {intro}"))
        .to_owned();
    assert!(
        intro.contains("wants to battle! They have 2 Pokémon"),
        "{intro}"
    );
    let class = lounge_pokemon::trainer::CLASSES
        .iter()
        .find(|c| title.starts_with(&format!("{} ", c.name)))
        .unwrap_or_else(|| panic!("{title} is no trainer class"));
    let message = message_id(&h, &i);
    // No running from a trainer: Forfeit sits beside the moves.
    assert!(
        buttons(&start)
            .iter()
            .any(|(id, label, _)| id.ends_with(":run") && label == "Forfeit"),
        "{}",
        start.body
    );
    let mut foes = vec![computer_active(&start).unwrap()];
    let mut last = press(&h, MEMBER_ID, message, &button_ending(&start, ":sw:1")).await;
    let mut log = String::new();
    let mut turns = 0;
    while !buttons(&last).is_empty() {
        turns += 1;
        assert!(turns <= 100, "the battle never ended: {}", last.body);
        foes.extend(computer_active(&last));
        log.push_str(&last.text());
        let moves: Vec<String> = buttons(&last)
            .into_iter()
            .filter(|(id, _, disabled)| id.contains(":mv:") && !disabled)
            .map(|(id, _, _)| id)
            .collect();
        // Psychic and Shadow Ball in turn: nothing is immune to both.
        let choice = if moves.is_empty() {
            button_ending(&last, ":sw:1")
        } else {
            moves[turns % moves.len()].clone()
        };
        last = press(&h, MEMBER_ID, message, &choice).await;
    }
    let end = last.text();
    log.push_str(&end);
    assert!(
        log.contains(&format!("{title} sent out")),
        "the trainer sends in its second: {log}"
    );
    foes.sort();
    foes.dedup();
    assert_eq!(foes.len(), 2, "two different Pokémon: {foes:?}");
    let d = dex();
    let base = lounge_pokemon::trainer::base_level(&[2, 70]);
    let mut exp = 0;
    for (name, level) in &foes {
        let s = d.species_named(name).unwrap();
        assert!(
            class.types.iter().any(|&t| s.has_type(t)) && (base - 2..=base + 2).contains(level),
            "{title}'s {name} at level {level}"
        );
        exp += battle_exp(s.num, *level);
    }
    let exp = exp * 3 / 2;
    let top = foes.iter().map(|(_, l)| i64::from(*l)).max().unwrap();
    let reward = 15 + i64::from(class.payout) * top / 16;
    assert!(
        end.contains(&format!("You defeated {title}! +{reward} coins."))
            && end.contains(&format!("Mewtwo gained {exp} XP")),
        "{end}"
    );
    assert_eq!(store.balance(MEMBER_ID).await.unwrap(), reward);
    assert!(reward > 15, "more than a wild battle");
    assert_eq!(
        store.pokemon(mewtwo).await.unwrap().unwrap().exp,
        exp_before + exp
    );
    assert_eq!(
        stored_battles(&store, MEMBER_ID).await,
        [("win".to_owned(), Some(title.clone()))]
    );
    assert_eq!(store.battle_record(MEMBER_ID).await.unwrap(), (1, 0));
    store.close().await;
    h.finish().await;
}

/// `/battle trainer` lost: a Magikarp can't beat two trainer Pokémon at its level; then a second
/// trainer battle is forfeited. Both are stored as losses against the trainer, and pay nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_trainer_battle_is_lost_or_forfeited() {
    let db = TestDb::sqlite();
    {
        let store = db.store().await;
        give(&store, MEMBER_ID, "Magikarp", 60, &["Tackle"]).await;
        store.close().await;
    }
    let h = Harness::start(db).await;
    let store = h.db.store().await;
    let (i, start) = slash(&h, MEMBER_ID, "battle", battle_trainer()).await;
    let title = start.text().split("**").nth(1).unwrap().to_owned();
    let message = message_id(&h, &i);
    // Another member can't play it.
    let refused = press(&h, OWNER_ID, message, &button_ending(&start, ":mv:0")).await;
    assert!(is_private(&refused), "{}", refused.body);
    let mut last = start;
    let mut turns = 0;
    while !buttons(&last).is_empty() {
        turns += 1;
        assert!(turns <= 150, "the battle never ended: {}", last.body);
        let (id, _, _) = buttons(&last)
            .into_iter()
            .find(|(id, _, disabled)| !disabled && id.contains(":mv:"))
            .expect("a move");
        last = press(&h, MEMBER_ID, message, &id).await;
    }
    let end = last.text();
    assert!(
        end.contains("Magikarp fainted. Better luck next time!"),
        "{end}"
    );
    assert_eq!(store.balance(MEMBER_ID).await.unwrap(), 0);

    let (i, again) = slash(&h, MEMBER_ID, "battle", battle_trainer()).await;
    let second = again.text().split("**").nth(1).unwrap().to_owned();
    let message = message_id(&h, &i);
    let gave_up = press(&h, MEMBER_ID, message, &button_ending(&again, ":run")).await;
    assert!(
        gave_up
            .text()
            .contains(&format!("You forfeited; {second} wins.")),
        "{}",
        gave_up.text()
    );
    assert!(buttons(&gave_up).is_empty());
    assert_eq!(
        stored_battles(&store, MEMBER_ID).await,
        [
            ("loss".to_owned(), Some(title)),
            ("forfeit".to_owned(), Some(second))
        ]
    );
    assert_eq!(store.battle_record(MEMBER_ID).await.unwrap(), (0, 2));
    store.close().await;
    h.finish().await;
}

fn hold(id: i64, item: &str) -> Value {
    json!([{"name": "hold", "type": 1, "options": [
        {"name": "id", "type": 4, "value": id},
        {"name": "item", "type": 3, "value": item},
    ]}])
}

fn takeitem(id: i64) -> Value {
    json!([{"name": "takeitem", "type": 1, "options": [{"name": "id", "type": 4, "value": id}]}])
}

/// `/pokemon hold` and `/pokemon takeitem`: an unknown item, someone else's Pokémon, an item
/// already held, nothing to take or too few coins is a private explanation that changes
/// nothing; an item is bought once, shown by `/pokemon info`, taken into the bag and given
/// again from the bag for free.
#[tokio::test(flavor = "multi_thread")]
async fn items_are_held_and_taken_with_private_refusals() {
    let db = TestDb::sqlite();
    let (pikachu, theirs) = {
        let store = db.store().await;
        let pikachu = give(&store, MEMBER_ID, "Pikachu", 10, &["Thunder Shock"]).await;
        let theirs = give(&store, OWNER_ID, "Eevee", 10, &["Tackle"]).await;
        store.close().await;
        (pikachu, theirs)
    };
    seed_coins(&db, MEMBER_ID, 350).await;
    let h = Harness::start(db).await;
    let store = h.db.store().await;

    let skip = h.fake.requests().len();
    let typing = h.fake.send_autocomplete(
        GUILD_ID,
        GENERAL_CHANNEL_ID,
        MEMBER_ID,
        "pokemon",
        json!([{"name": "hold", "type": 1, "options": [
            {"name": "id", "type": 4, "value": pikachu},
            {"name": "item", "type": 3, "value": "coat", "focused": true},
        ]}]),
    );
    let suggested = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| r.path == typing.callback_path())
        .await;
    let choices: Vec<&str> = suggested.body["data"]["choices"]
        .as_array()
        .expect("choices")
        .iter()
        .filter_map(|c| c["value"].as_str())
        .collect();
    assert_eq!(choices, ["Metal Coat"]);

    for (user, options, expected) in [
        (
            MEMBER_ID,
            hold(pikachu, "banana"),
            "There's no item \"banana\" to hold",
        ),
        (
            MEMBER_ID,
            hold(theirs, "leftovers"),
            "You don't have a Pokémon",
        ),
        (
            OWNER_ID,
            hold(pikachu, "leftovers"),
            "You don't have a Pokémon",
        ),
        (MEMBER_ID, takeitem(pikachu), "isn't holding anything"),
        (MEMBER_ID, takeitem(theirs), "You don't have a Pokémon"),
    ] {
        let (_, refused) = slash(&h, user, "pokemon", options.clone()).await;
        assert!(
            is_private(&refused) && refused.text().contains(expected),
            "{options} should be refused with `{expected}`: {}",
            refused.body
        );
    }
    assert_eq!(store.balance(MEMBER_ID).await.unwrap(), 350);

    let (_, held) = slash(&h, MEMBER_ID, "pokemon", hold(pikachu, "leftovers")).await;
    assert!(
        !is_private(&held)
            && held.text().contains(&format!(
                "#{pikachu} Pikachu is now holding a Leftovers (300 coins; 50 left). It uses it in battles."
            )),
        "{}",
        held.text()
    );
    let (_, again) = slash(&h, MEMBER_ID, "pokemon", hold(pikachu, "Everstone")).await;
    assert!(
        is_private(&again) && again.text().contains("already holds a Leftovers"),
        "{}",
        again.text()
    );
    let (_, info) = slash(
        &h,
        MEMBER_ID,
        "pokemon",
        json!([{"name": "info", "type": 1, "options": [{"name": "id", "type": 4, "value": pikachu}]}]),
    )
    .await;
    assert!(
        info.text().contains("Holding: Leftovers"),
        "{}",
        info.text()
    );

    let (_, taken) = slash(&h, MEMBER_ID, "pokemon", takeitem(pikachu)).await;
    assert!(
        taken
            .text()
            .contains(&format!("You took the Leftovers from #{pikachu} Pikachu")),
        "{}",
        taken.text()
    );
    let (_, bag) = slash(
        &h,
        MEMBER_ID,
        "pokemon",
        json!([{"name": "bag", "type": 1, "options": []}]),
    )
    .await;
    assert!(bag.text().contains("Leftovers: 1"), "{}", bag.text());
    let (_, poor) = slash(&h, MEMBER_ID, "pokemon", hold(pikachu, "metal coat")).await;
    assert!(
        is_private(&poor) && poor.text().contains("enough coins"),
        "{}",
        poor.text()
    );
    let (_, free) = slash(&h, MEMBER_ID, "pokemon", hold(pikachu, "LEFTOVERS")).await;
    assert!(free.text().contains("(from your bag)"), "{}", free.text());
    assert_eq!(store.balance(MEMBER_ID).await.unwrap(), 50);
    assert_eq!(store.item_count(MEMBER_ID, "Leftovers").await.unwrap(), 0);
    assert_eq!(
        store
            .pokemon(pikachu)
            .await
            .unwrap()
            .unwrap()
            .held_item
            .as_deref(),
        Some("Leftovers")
    );
    assert_eq!(
        store.pokemon(theirs).await.unwrap().unwrap().held_item,
        None
    );
    store.close().await;
    h.finish().await;
}

/// An Onix given a Metal Coat evolves into Steelix when it is traded with `/trade`, using the
/// coat up in the swap; the trade shows the item it holds, and the new owner's Pokédex gains
/// Steelix.
#[tokio::test(flavor = "multi_thread")]
async fn a_trade_evolves_a_pokemon_holding_its_item() {
    let db = TestDb::sqlite();
    let (onix, eevee) = {
        let store = db.store().await;
        let onix = give(&store, MEMBER_ID, "Onix", 20, &["Tackle"]).await;
        let eevee = give(&store, OWNER_ID, "Eevee", 10, &["Tackle"]).await;
        store.close().await;
        (onix, eevee)
    };
    seed_coins(&db, MEMBER_ID, 300).await;
    let h = Harness::start(db).await;
    let store = h.db.store().await;
    let (_, held) = slash(&h, MEMBER_ID, "pokemon", hold(onix, "metal coat")).await;
    assert!(
        held.text()
            .contains("It will evolve into **Steelix** when it is traded."),
        "{}",
        held.text()
    );
    let (i, invite) = slash(
        &h,
        MEMBER_ID,
        "trade",
        trade_sub(
            "start",
            json!([{"name": "user", "type": 6, "value": OWNER_ID.to_string()}]),
        ),
    )
    .await;
    press(
        &h,
        OWNER_ID,
        message_id(&h, &i),
        &button_ending(&invite, ":accept"),
    )
    .await;
    let (_, added) = slash(
        &h,
        MEMBER_ID,
        "trade",
        trade_sub(
            "add",
            json!([{"name": "pokemon", "type": 3, "value": onix.to_string()}]),
        ),
    )
    .await;
    assert!(
        added.text().contains("holds Metal Coat"),
        "{}",
        added.text()
    );
    // The item is part of the offer now: it can't be taken back while the trade is open.
    let (_, locked) = slash(&h, MEMBER_ID, "pokemon", takeitem(onix)).await;
    assert!(
        is_private(&locked) && locked.text().contains("offered in an open trade"),
        "{}",
        locked.text()
    );
    slash(
        &h,
        OWNER_ID,
        "trade",
        trade_sub(
            "add",
            json!([{"name": "pokemon", "type": 3, "value": eevee.to_string()}]),
        ),
    )
    .await;
    slash(&h, OWNER_ID, "trade", trade_sub("confirm", json!([]))).await;
    let (_, done) = slash(&h, MEMBER_ID, "trade", trade_sub("confirm", json!([]))).await;
    let text = done.text();
    assert!(
        text.contains("Trade complete")
            && text.contains(&format!("<@{OWNER_ID}>'s Onix evolved into **Steelix**!"))
            && text.contains("It used up its Metal Coat."),
        "{text}"
    );
    let steelix = dex().species_named("Steelix").unwrap().num;
    let p = store.pokemon(onix).await.unwrap().unwrap();
    assert_eq!((p.owner, p.species, p.held_item), (OWNER_ID, steelix, None));
    assert!(store.dex(OWNER_ID).await.unwrap().contains(&steelix));
    assert_eq!(store.item_count(OWNER_ID, "Metal Coat").await.unwrap(), 0);
    assert_eq!(store.item_count(MEMBER_ID, "Metal Coat").await.unwrap(), 0);
    store.close().await;
    h.finish().await;
}
