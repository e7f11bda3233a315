//! Reusable Discord UI pieces.

mod paginate;

pub use paginate::paginate;
