//! IPC protocol between the bot and the streamer. Filled in by the streamer-core issue.
