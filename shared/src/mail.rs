//! Mail through SES v2 (magic links and notices). Each mail has a plain-text and an HTML
//! body; a link, when there is one, is the only secret in it.

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use crate::config::MailConfig;

pub struct Mailer {
    client: Client,
    pub config: MailConfig,
}

/// One mail: subject, plain text and HTML.
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
#[error("SES could not send the mail: {0}")]
pub struct MailError(String);

impl Mailer {
    pub fn new(client: Client, config: MailConfig) -> Self {
        Self { client, config }
    }

    /// The client application's page for a link token (the page POSTs it to the API, so a
    /// mail scanner that fetches the link spends nothing).
    pub fn link(&self, token: &str) -> String {
        let sep = if self.config.link_base_url.contains('?') { '&' } else { '?' };
        format!("{}{sep}token={token}", self.config.link_base_url)
    }

    #[tracing::instrument(skip_all, err(Display))]
    pub async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let content =
            |data: String| Content::builder().data(data).charset("UTF-8").build().map_err(|e| MailError(e.to_string()));
        let message = Message::builder()
            .subject(content(mail.subject)?)
            .body(Body::builder().text(content(mail.text)?).html(content(mail.html)?).build())
            .build();
        self.client
            .send_email()
            .from_email_address(&self.config.from)
            .destination(Destination::builder().to_addresses(mail.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| MailError(format!("{}", aws_sdk_sesv2::error::DisplayErrorContext(&e))))?;
        Ok(())
    }
}

/// Escapes text for HTML bodies.
pub fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}
