//! The two messaging clients: mail through SES v2 (magic links, codes and notices; each
//! mail has a plain-text and an HTML body, and a link or code, when there is one, is the
//! only secret in it) and texts through SNS ([`Texter`]).

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use crate::config::MailConfig;
use crate::refusal::{Dependency, Refusal};

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

    /// The same sender on another client (a benchmark's, which times its requests).
    pub fn on_client(&self, client: Client) -> Self {
        Self { client, config: self.config.clone() }
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

/// A minimal check that `email` can be a mail address (SES validates the rest).
pub fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else { return false };
    email.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',')
}

/// The address a setup of an email factor names: `email`, or the token's.
pub fn requested_address(email: Option<String>, principal: &crate::auth::Principal) -> Result<String, Refusal> {
    let to = email.or_else(|| principal.email.clone()).map(|e| e.trim().to_string()).ok_or_else(|| {
        Refusal::InvalidField("Field `email` is required: your token carries no email address.".into())
    })?;
    if !is_plausible_email(&to) {
        return Err(Refusal::InvalidField("Field `email` is not a valid email address.".into()));
    }
    Ok(to)
}

/// Escapes text for HTML bodies.
pub fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Texts through Amazon SNS (`Publish` to a phone number; locally an SNS-compatible
/// endpoint at `AWS_ENDPOINT_URL_SNS`).
pub struct Texter {
    client: aws_sdk_sns::Client,
}

impl Texter {
    pub fn new(client: aws_sdk_sns::Client) -> Self {
        Self { client }
    }

    #[tracing::instrument(skip_all, err(Display))]
    pub async fn send(&self, to: &str, body: &str) -> Result<(), Refusal> {
        let kind = aws_sdk_sns::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|_| Refusal::Internal)?;
        self.client
            .publish()
            .phone_number(to)
            .message(body)
            .message_attributes("AWS.SNS.SMS.SMSType", kind)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = %aws_sdk_sns::error::DisplayErrorContext(&e), "SNS could not send a text");
                Refusal::Unavailable(Dependency::Sms)
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_emails() {
        assert!(is_plausible_email("ada@example.com"));
        for bad in ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com", "a@b.com,c@d.com"] {
            assert!(!is_plausible_email(bad), "{bad}");
        }
    }
}
