//! OSRS simulation engine: pure and synchronous. Filled in by the OSRS issue.
