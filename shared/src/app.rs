//! What a function builds once per cold start and hands to its handler by reference.

use crate::auth::TokenVerifier;
use crate::config::{ConfigError, Environment, Reader, Source, StoreConfig};
use crate::store::Store;

pub struct App {
    pub auth: TokenVerifier,
    pub store: Store,
}

impl App {
    /// Reads the configuration from the process environment and builds the clients.
    pub async fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&Environment).await
    }

    pub async fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        let mut r = Reader::new(source);
        let store_config = StoreConfig::read(&mut r);
        let auth = TokenVerifier::read(&mut r);
        r.finish()?;
        let auth = auth.expect("a complete configuration yields a verifier");
        // The SDK reads the region, credentials and `AWS_ENDPOINT_URL_DYNAMODB` itself.
        let sdk = aws_config::load_from_env().await;
        let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), store_config.table_name);
        Ok(Self { auth, store })
    }
}
