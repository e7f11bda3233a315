//! Strict checks of what the bot sends, after Discord's API reference (v10): unknown fields,
//! wrong types and broken limits are reported as violations, which fail the test, instead of
//! being ignored the way a lenient fake would.

use serde_json::{Map, Value};

/// Collects violations with the JSON path where each was found.
#[derive(Default)]
pub struct Checker {
    pub errors: Vec<String>,
}

impl Checker {
    fn err(&mut self, path: &str, msg: impl std::fmt::Display) {
        self.errors.push(format!("{path}: {msg}"));
    }

    fn object<'v>(
        &mut self,
        v: &'v Value,
        path: &str,
        allowed: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Some(map) = v.as_object() else {
            self.err(path, format!("expected an object, got {v}"));
            return None;
        };
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                self.err(path, format!("unknown field `{key}`"));
            }
        }
        Some(map)
    }

    fn string_max(&mut self, map: &Map<String, Value>, path: &str, key: &str, max: usize) {
        match map.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.chars().count() <= max => {}
            Some(Value::String(s)) => self.err(
                path,
                format!("`{key}` is {} characters, over {max}", s.chars().count()),
            ),
            Some(other) => self.err(path, format!("`{key}` must be a string, got {other}")),
        }
    }

    fn array<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        path: &str,
        key: &str,
        max: usize,
    ) -> &'v [Value] {
        match map.get(key) {
            None | Some(Value::Null) => &[],
            Some(Value::Array(items)) => {
                if items.len() > max {
                    self.err(
                        path,
                        format!("`{key}` has {} items, over {max}", items.len()),
                    );
                }
                items
            }
            Some(other) => {
                self.err(path, format!("`{key}` must be an array, got {other}"));
                &[]
            }
        }
    }

    fn snowflake(&mut self, v: &Value, path: &str) {
        let ok = match v {
            Value::String(s) => s.parse::<u64>().is_ok(),
            Value::Number(n) => n.is_u64(),
            _ => false,
        };
        if !ok {
            self.err(path, format!("expected a snowflake, got {v}"));
        }
    }

    /// Body of POST /channels/{id}/messages and of webhook executes (follow-ups).
    pub fn message_create(&mut self, v: &Value) {
        let allowed = [
            "content",
            "nonce",
            "tts",
            "embeds",
            "allowed_mentions",
            "message_reference",
            "components",
            "sticker_ids",
            "attachments",
            "flags",
            "enforce_nonce",
            "poll",
            "username",
            "avatar_url",
            "thread_name",
            "applied_tags",
        ];
        self.message_body(v, "message", &allowed);
    }

    /// Body of PATCH message edits.
    pub fn message_edit(&mut self, v: &Value) {
        let allowed = [
            "content",
            "embeds",
            "flags",
            "allowed_mentions",
            "components",
            "attachments",
            "poll",
        ];
        self.message_body(v, "edit", &allowed);
    }

    fn message_body(&mut self, v: &Value, path: &str, allowed: &[&str]) {
        let Some(map) = self.object(v, path, allowed) else {
            return;
        };
        self.string_max(map, path, "content", 2000);
        let embeds = self.array(map, path, "embeds", 10);
        let mut total = 0;
        for (i, e) in embeds.iter().enumerate() {
            total += self.embed(e, &format!("{path}.embeds[{i}]"));
        }
        if total > 6000 {
            self.err(path, format!("embeds total {total} characters, over 6000"));
        }
        if let Some(am) = map.get("allowed_mentions") {
            self.allowed_mentions(am, &format!("{path}.allowed_mentions"));
        }
        for (i, row) in self.array(map, path, "components", 5).iter().enumerate() {
            self.component(row, &format!("{path}.components[{i}]"), true);
        }
        if let Some(r) = map.get("message_reference")
            && let Some(r) = self.object(
                r,
                &format!("{path}.message_reference"),
                &[
                    "type",
                    "message_id",
                    "channel_id",
                    "guild_id",
                    "fail_if_not_exists",
                ],
            )
            && let Some(id) = r.get("message_id")
        {
            self.snowflake(id, &format!("{path}.message_reference.message_id"));
        }
        if let Some(flags) = map.get("flags")
            && !flags.is_u64()
        {
            self.err(path, format!("`flags` must be an integer, got {flags}"));
        }
    }

    /// Returns the embed's character count (Discord's 6000 total applies across embeds).
    fn embed(&mut self, v: &Value, path: &str) -> usize {
        let allowed = [
            "title",
            "type",
            "description",
            "url",
            "timestamp",
            "color",
            "footer",
            "image",
            "thumbnail",
            "video",
            "provider",
            "author",
            "fields",
        ];
        let Some(map) = self.object(v, path, &allowed) else {
            return 0;
        };
        self.string_max(map, path, "title", 256);
        self.string_max(map, path, "description", 4096);
        let len = |m: &Map<String, Value>, k: &str| {
            m.get(k)
                .and_then(Value::as_str)
                .map_or(0, |s| s.chars().count())
        };
        let mut total = len(map, "title") + len(map, "description");
        if let Some(f) = map.get("footer") {
            let p = format!("{path}.footer");
            if let Some(f) = self.object(f, &p, &["text", "icon_url", "proxy_icon_url"]) {
                self.string_max(f, &p, "text", 2048);
                total += len(f, "text");
            }
        }
        if let Some(a) = map.get("author") {
            let p = format!("{path}.author");
            if let Some(a) = self.object(a, &p, &["name", "url", "icon_url", "proxy_icon_url"]) {
                self.string_max(a, &p, "name", 256);
                total += len(a, "name");
            }
        }
        for key in ["image", "thumbnail"] {
            if let Some(i) = map.get(key) {
                self.object(
                    i,
                    &format!("{path}.{key}"),
                    &["url", "proxy_url", "height", "width"],
                );
            }
        }
        for (i, f) in self.array(map, path, "fields", 25).iter().enumerate() {
            let p = format!("{path}.fields[{i}]");
            if let Some(f) = self.object(f, &p, &["name", "value", "inline"]) {
                self.string_max(f, &p, "name", 256);
                self.string_max(f, &p, "value", 1024);
                for k in ["name", "value"] {
                    if f.get(k).and_then(Value::as_str).is_none_or(str::is_empty) {
                        self.err(&p, format!("`{k}` is required and must not be empty"));
                    }
                }
                total += len(f, "name") + len(f, "value");
            }
        }
        total
    }

    fn allowed_mentions(&mut self, v: &Value, path: &str) {
        let Some(map) = self.object(v, path, &["parse", "roles", "users", "replied_user"]) else {
            return;
        };
        for p in self.array(map, path, "parse", 3) {
            if !matches!(p.as_str(), Some("roles" | "users" | "everyone")) {
                self.err(path, format!("unknown parse type {p}"));
            }
        }
        let parse: Vec<&str> = map
            .get("parse")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (kind, list) in [("roles", "roles"), ("users", "users")] {
            let ids = self.array(map, path, list, 100);
            if !ids.is_empty() && parse.contains(&kind) {
                self.err(
                    path,
                    format!("`parse` contains `{kind}` and `{list}` is set: Discord rejects both"),
                );
            }
            for id in ids {
                self.snowflake(id, path);
            }
        }
    }

    fn component(&mut self, v: &Value, path: &str, top_level: bool) {
        let kind = v.get("type").and_then(Value::as_u64).unwrap_or(0);
        match kind {
            1 => {
                if !top_level {
                    self.err(path, "an action row cannot be nested");
                }
                let Some(map) = self.object(v, path, &["type", "components", "id"]) else {
                    return;
                };
                let children = self.array(map, path, "components", 5);
                if children.is_empty() {
                    self.err(path, "an action row needs at least one component");
                }
                for (i, c) in children.iter().enumerate() {
                    self.component(c, &format!("{path}.components[{i}]"), false);
                }
                let selects = children
                    .iter()
                    .filter(|c| matches!(c["type"].as_u64(), Some(3 | 5..=8)))
                    .count();
                if selects > 0 && children.len() > 1 {
                    self.err(path, "a select menu takes a whole action row");
                }
            }
            2 if !top_level => {
                let allowed = [
                    "type",
                    "style",
                    "label",
                    "emoji",
                    "custom_id",
                    "sku_id",
                    "url",
                    "disabled",
                    "id",
                ];
                let Some(map) = self.object(v, path, &allowed) else {
                    return;
                };
                self.string_max(map, path, "label", 80);
                self.string_max(map, path, "custom_id", 100);
                let style = map.get("style").and_then(Value::as_u64).unwrap_or(0);
                match style {
                    1..=4 if map.get("custom_id").is_none() => {
                        self.err(path, "this button style needs a custom_id");
                    }
                    5 if map.get("url").is_none() => self.err(path, "a link button needs a url"),
                    1..=6 => {}
                    _ => self.err(path, format!("invalid button style {style}")),
                }
                if map.get("label").is_none() && map.get("emoji").is_none() {
                    self.err(path, "a button needs a label or an emoji");
                }
            }
            3 | 5..=8 if !top_level => {
                let allowed = [
                    "type",
                    "custom_id",
                    "options",
                    "channel_types",
                    "placeholder",
                    "default_values",
                    "min_values",
                    "max_values",
                    "disabled",
                    "id",
                    "required",
                ];
                let Some(map) = self.object(v, path, &allowed) else {
                    return;
                };
                self.string_max(map, path, "custom_id", 100);
                self.string_max(map, path, "placeholder", 150);
                for (i, o) in self.array(map, path, "options", 25).iter().enumerate() {
                    let at = format!("{path}.options[{i}]");
                    if let Some(option) = self.object(
                        o,
                        &at,
                        &["label", "value", "description", "emoji", "default"],
                    ) {
                        for key in ["label", "value", "description"] {
                            self.string_max(option, &at, key, 100);
                        }
                    }
                }
            }
            4 if !top_level => {
                let allowed = [
                    "type",
                    "custom_id",
                    "style",
                    "label",
                    "min_length",
                    "max_length",
                    "required",
                    "value",
                    "placeholder",
                    "id",
                ];
                self.object(v, path, &allowed);
            }
            _ => self.err(path, format!("component type {kind} is not valid here")),
        }
    }

    /// Body of POST /interactions/{id}/{token}/callback.
    /// `PATCH /guilds/{guild}/members/{user}`: a timeout is at most 28 days ahead.
    pub fn member_edit(&mut self, v: &Value) {
        let path = "member";
        let Some(map) = self.object(
            v,
            path,
            &[
                "nick",
                "roles",
                "mute",
                "deaf",
                "channel_id",
                "communication_disabled_until",
                "flags",
            ],
        ) else {
            return;
        };
        match map.get("communication_disabled_until") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => match serenity::model::Timestamp::parse(s) {
                Ok(t) => {
                    let ahead =
                        t.unix_timestamp() - serenity::model::Timestamp::now().unix_timestamp();
                    if ahead > 28 * 24 * 3600 {
                        self.err(path, format!("a timeout {ahead} s ahead is over 28 days"));
                    }
                }
                Err(e) => self.err(path, format!("`communication_disabled_until` {s:?}: {e}")),
            },
            Some(other) => self.err(
                path,
                format!("`communication_disabled_until` must be a timestamp, got {other}"),
            ),
        }
    }

    pub fn interaction_response(&mut self, v: &Value) {
        let path = "interaction_response";
        let Some(map) = self.object(v, path, &["type", "data"]) else {
            return;
        };
        let kind = map.get("type").and_then(Value::as_u64);
        match kind {
            // A deferred reply's data is a message body, of which Discord reads only `flags`
            // (serenity sends an empty `attachments` list with it).
            Some(5) => {
                if let Some(data) = map.get("data") {
                    self.object(data, &format!("{path}.data"), &["flags", "attachments"]);
                }
            }
            // serenity sends `"data": null` with a bare acknowledgement; Discord takes it.
            Some(1 | 6) => {
                if let Some(data) = map.get("data").filter(|d| !d.is_null()) {
                    self.object(data, &format!("{path}.data"), &["flags"]);
                }
            }
            Some(4 | 7) => match map.get("data") {
                Some(data) => self.message_body(
                    data,
                    &format!("{path}.data"),
                    &[
                        "tts",
                        "content",
                        "embeds",
                        "allowed_mentions",
                        "flags",
                        "components",
                        "attachments",
                        "poll",
                    ],
                ),
                None if kind == Some(4) => self.err(path, "type 4 needs data"),
                None => {}
            },
            Some(8) => {
                let p = format!("{path}.data");
                if let Some(data) = map
                    .get("data")
                    .and_then(|d| self.object(d, &p, &["choices"]))
                {
                    for (i, c) in self.array(data, &p, "choices", 25).iter().enumerate() {
                        self.object(
                            c,
                            &format!("{p}.choices[{i}]"),
                            &["name", "name_localizations", "value"],
                        );
                    }
                }
            }
            Some(9) => {
                let p = format!("{path}.data");
                if let Some(data) = map
                    .get("data")
                    .and_then(|d| self.object(d, &p, &["custom_id", "title", "components"]))
                {
                    for (i, row) in self.array(data, &p, "components", 5).iter().enumerate() {
                        self.component(row, &format!("{p}.components[{i}]"), true);
                    }
                }
            }
            other => self.err(path, format!("invalid interaction callback type {other:?}")),
        }
    }

    /// One command of a bulk overwrite (PUT .../commands).
    pub fn application_command(&mut self, v: &Value, path: &str) {
        let allowed = [
            "id",
            "name",
            "name_localizations",
            "description",
            "description_localizations",
            "options",
            "default_member_permissions",
            "dm_permission",
            "default_permission",
            "type",
            "nsfw",
            "integration_types",
            "contexts",
            "handler",
        ];
        let Some(map) = self.object(v, path, &allowed) else {
            return;
        };
        let kind = map.get("type").and_then(Value::as_u64).unwrap_or(1);
        self.command_name(map, path, kind == 1);
        if kind == 1 {
            self.description(map, path);
        }
        self.options(map, path, 0);
    }

    fn command_name(&mut self, map: &Map<String, Value>, path: &str, chat_input: bool) {
        let name = map.get("name").and_then(Value::as_str).unwrap_or_default();
        let valid = !name.is_empty()
            && name.chars().count() <= 32
            && (!chat_input
                || name
                    .chars()
                    .all(|c| c == '-' || c == '_' || c.is_alphanumeric() && !c.is_uppercase()));
        if !valid {
            self.err(path, format!("invalid name {name:?}"));
        }
    }

    fn description(&mut self, map: &Map<String, Value>, path: &str) {
        let d = map
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if d.is_empty() || d.chars().count() > 100 {
            self.err(
                path,
                format!("description must be 1-100 characters, got {d:?}"),
            );
        }
    }

    fn options(&mut self, map: &Map<String, Value>, path: &str, depth: usize) {
        let allowed = [
            "type",
            "name",
            "name_localizations",
            "description",
            "description_localizations",
            "required",
            "choices",
            "options",
            "channel_types",
            "min_value",
            "max_value",
            "min_length",
            "max_length",
            "autocomplete",
        ];
        let mut seen_optional = false;
        for (i, o) in self.array(map, path, "options", 25).iter().enumerate() {
            let p = format!("{path}.options[{i}]");
            let Some(o) = self.object(o, &p, &allowed) else {
                continue;
            };
            self.command_name(o, &p, true);
            self.description(o, &p);
            let kind = o.get("type").and_then(Value::as_u64).unwrap_or(0);
            if !(1..=11).contains(&kind) {
                self.err(&p, format!("invalid option type {kind}"));
            }
            if kind <= 2 {
                if depth >= 2 {
                    self.err(&p, "subcommands nest at most two levels");
                }
                self.options(o, &p, depth + 1);
            } else {
                let required = o.get("required").and_then(Value::as_bool).unwrap_or(false);
                if required && seen_optional {
                    self.err(&p, "required options must come before optional ones");
                }
                seen_optional |= !required;
                if o.get("autocomplete") == Some(&Value::Bool(true))
                    && o.get("choices")
                        .is_some_and(|c| c.as_array().is_some_and(|c| !c.is_empty()))
                {
                    self.err(&p, "autocomplete and choices are mutually exclusive");
                }
            }
        }
    }

    /// The d of gateway IDENTIFY.
    pub fn identify(&mut self, v: &Value) {
        let path = "identify";
        let allowed = [
            "token",
            "properties",
            "compress",
            "large_threshold",
            "shard",
            "presence",
            "intents",
        ];
        let Some(map) = self.object(v, path, &allowed) else {
            return;
        };
        for key in ["token", "properties", "intents"] {
            if !map.contains_key(key) {
                self.err(path, format!("missing `{key}`"));
            }
        }
        if let Some(p) = map.get("properties") {
            self.object(p, "identify.properties", &["os", "browser", "device"]);
        }
        if let Some(p) = map.get("presence") {
            self.object(
                p,
                "identify.presence",
                &["since", "activities", "status", "afk"],
            );
        }
        if let Some(t) = map.get("large_threshold").and_then(Value::as_u64)
            && !(50..=250).contains(&t)
        {
            self.err(path, format!("large_threshold {t} outside 50-250"));
        }
    }

    /// The d of a user account's IDENTIFY: a client's properties and capabilities, and no
    /// intents or shard (those are for bots).
    pub fn user_identify(&mut self, v: &Value) {
        let path = "identify (user)";
        let allowed = [
            "token",
            "capabilities",
            "properties",
            "presence",
            "compress",
            "client_state",
        ];
        let Some(map) = self.object(v, path, &allowed) else {
            return;
        };
        for key in ["token", "capabilities", "properties"] {
            if !map.contains_key(key) {
                self.err(path, format!("missing `{key}`"));
            }
        }
        if map.get("capabilities").is_some_and(|c| !c.is_u64()) {
            self.err(path, "`capabilities` must be an integer bitfield");
        }
        if let Some(p) = map.get("properties") {
            let allowed = [
                "os",
                "browser",
                "device",
                "release_channel",
                "client_version",
                "os_version",
                "os_arch",
                "app_arch",
                "system_locale",
                "has_client_mods",
                "client_launch_id",
                "browser_user_agent",
                "browser_version",
                "os_sdk_version",
                "client_build_number",
                "native_build_number",
                "client_event_source",
                "client_app_state",
                "client_heartbeat_session_id",
                "design_id",
            ];
            if let Some(props) = self.object(p, "identify.properties", &allowed) {
                for key in ["os", "browser", "client_build_number"] {
                    if !props.contains_key(key) {
                        self.err("identify.properties", format!("missing `{key}`"));
                    }
                }
            }
        }
        if let Some(p) = map.get("presence") {
            self.object(
                p,
                "identify.presence",
                &["since", "activities", "status", "afk"],
            );
        }
    }

    fn required<'m>(
        &mut self,
        map: &'m Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<&'m Value> {
        let v = map.get(key);
        if v.is_none() {
            self.err(path, format!("missing `{key}`"));
        }
        v
    }

    fn boolean(&mut self, map: &Map<String, Value>, path: &str, key: &str) {
        if let Some(v) = self.required(map, path, key)
            && !v.is_boolean()
        {
            self.err(path, format!("`{key}` must be a boolean, got {v}"));
        }
    }

    fn stream_key(&mut self, map: &Map<String, Value>, path: &str) {
        if let Some(v) = self.required(map, path, "stream_key") {
            let ok = v.as_str().is_some_and(|k| {
                let parts: Vec<&str> = k.split(':').collect();
                (parts.len() == 4 && parts[0] == "guild" || parts.len() == 3 && parts[0] == "call")
                    && parts[1..].iter().all(|p| p.parse::<u64>().is_ok())
            });
            if !ok {
                self.err(path, format!("`stream_key` is not a stream key: {v}"));
            }
        }
    }

    /// The d of gateway op 4 (voice state update).
    pub fn voice_state_update(&mut self, v: &Value) {
        let path = "voice state update";
        let allowed = [
            "guild_id",
            "channel_id",
            "self_mute",
            "self_deaf",
            "self_video",
            "preferred_regions",
            "flags",
        ];
        let Some(map) = self.object(v, path, &allowed) else {
            return;
        };
        // Null for a DM or group DM call.
        match self.required(map, path, "guild_id") {
            None | Some(Value::Null) => {}
            Some(g) => self.snowflake(g, "voice state update.guild_id"),
        }
        match self.required(map, path, "channel_id") {
            None | Some(Value::Null) => {}
            Some(c) => self.snowflake(c, "voice state update.channel_id"),
        }
        for key in ["self_mute", "self_deaf", "self_video"] {
            self.boolean(map, path, key);
        }
    }

    /// The d of gateway op 18 (stream create).
    pub fn stream_create(&mut self, v: &Value) {
        let path = "stream create";
        let allowed = ["type", "guild_id", "channel_id", "preferred_region"];
        let Some(map) = self.object(v, path, &allowed) else {
            return;
        };
        match self.required(map, path, "type").and_then(Value::as_str) {
            Some("guild" | "call") | None => {}
            Some(other) => self.err(path, format!("unknown stream type `{other}`")),
        }
        match map.get("type").and_then(Value::as_str) {
            Some("guild") => {
                if let Some(g) = self.required(map, path, "guild_id") {
                    self.snowflake(g, "stream create.guild_id");
                }
            }
            Some("call") if map.get("guild_id").is_some_and(|g| !g.is_null()) => {
                self.err(path, "a call stream has no guild_id".to_owned());
            }
            _ => {}
        }
        if let Some(c) = self.required(map, path, "channel_id") {
            self.snowflake(c, "stream create.channel_id");
        }
        match map.get("preferred_region") {
            None | Some(Value::Null | Value::String(_)) => {}
            Some(other) => self.err(
                path,
                format!("`preferred_region` must be a string or null, got {other}"),
            ),
        }
    }

    /// The d of gateway op 22 (stream set paused).
    pub fn stream_set_paused(&mut self, v: &Value) {
        let path = "stream set paused";
        if let Some(map) = self.object(v, path, &["stream_key", "paused"]) {
            self.stream_key(map, path);
            self.boolean(map, path, "paused");
        }
    }

    /// The d of gateway ops 19 (stream delete), 20 (watch) and 21 (stream ping).
    pub fn stream_key_only(&mut self, v: &Value, path: &str) {
        if let Some(map) = self.object(v, path, &["stream_key"]) {
            self.stream_key(map, path);
        }
    }

    /// The d of gateway RESUME.
    pub fn resume(&mut self, v: &Value) {
        if let Some(map) = self.object(v, "resume", &["token", "session_id", "seq"]) {
            for key in ["token", "session_id", "seq"] {
                if !map.contains_key(key) {
                    self.err("resume", format!("missing `{key}`"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(f: impl FnOnce(&mut Checker)) -> Vec<String> {
        let mut c = Checker::default();
        f(&mut c);
        c.errors
    }

    #[test]
    fn unknown_fields_are_violations() {
        let e = errors(|c| c.message_create(&json!({"content": "hi", "contnet": "typo"})));
        assert_eq!(e, vec!["message: unknown field `contnet`"]);
        let e = errors(|c| c.message_create(&json!({"embeds": [{"title": "t", "colour": 1}]})));
        assert_eq!(e, vec!["message.embeds[0]: unknown field `colour`"]);
    }

    #[test]
    fn limits_are_enforced() {
        let long = "x".repeat(2001);
        assert_eq!(
            errors(|c| c.message_create(&json!({"content": long}))).len(),
            1
        );
        let e = errors(|c| {
            c.message_create(&json!({"allowed_mentions": {"parse": ["users"], "users": ["1"]}}));
        });
        assert_eq!(e.len(), 1, "{e:?}");
        let e = errors(|c| {
            c.interaction_response(&json!({"type": 4, "data": {"components": [{"type": 2, "style": 1, "label": "x", "custom_id": "a"}]}}));
        });
        assert_eq!(e.len(), 1, "{e:?}");
    }

    #[test]
    fn valid_payloads_pass() {
        let msg = json!({
            "content": "hi", "tts": false, "allowed_mentions": {"parse": [], "replied_user": false},
            "embeds": [{"title": "t", "description": "d", "fields": [{"name": "a", "value": "b", "inline": true}], "footer": {"text": "f"}}],
            "components": [{"type": 1, "components": [{"type": 2, "style": 2, "label": "Next", "custom_id": "n"}]}],
        });
        assert!(errors(|c| c.message_create(&msg)).is_empty());
        let cmd = json!({"name": "help", "description": "Show help", "type": 1, "options": [
            {"type": 3, "name": "command", "description": "Which", "required": false, "autocomplete": true}
        ]});
        assert!(errors(|c| c.application_command(&cmd, "cmd")).is_empty());
    }

    #[test]
    fn command_rules_are_enforced() {
        let cmd = json!({"name": "Help", "description": "", "options": [
            {"type": 3, "name": "a", "description": "A", "required": false},
            {"type": 3, "name": "b", "description": "B", "required": true}
        ]});
        let e = errors(|c| c.application_command(&cmd, "cmd"));
        assert_eq!(e.len(), 3, "{e:?}");
    }
}
