//! The MFA service's shared crate. Every rule lives here — configuration, token
//! verification, the JSON envelope, body parsing, the DynamoDB model and store, and
//! the route handlers — so each function binary under `functions/` only wires.

pub mod app;
pub mod auth;
pub mod body;
pub mod ceremonies;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod envelope;
pub mod handlers;
pub mod lockout;
pub mod mail;
pub mod methods;
pub mod model;
pub mod notify;
pub mod policy;
pub mod routes;
pub mod store;
pub mod tokens;
pub mod verify;

pub use app::App;
pub use envelope::ApiError;
