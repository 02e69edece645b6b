//! The security rules as attacks: what someone who knows only a user's password (a
//! platform token) must never reach, sessions that must end with the factors that made
//! them, one-time values raced by concurrent requests, and the authorization matrix of
//! every route against every kind of caller.

mod backend;
mod custody;
mod frontegg;
mod holes;
mod matrix;
mod races;
mod sessions;
