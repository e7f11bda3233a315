//! Integration tests for lounge-pokemon; one binary so the helpers compile once.

mod util;

mod battles;
mod catching;
mod differential;
mod evolving;
mod fingerprint;
mod trainers;
