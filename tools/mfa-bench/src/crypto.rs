//! Crypto throughput on one core: what a second factor costs the CPU.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{Url, Uuid};

const FOR: Duration = Duration::from_secs(2);

/// Runs `op` for two seconds; operations per second.
fn per_second(mut op: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < FOR {
        for _ in 0..16 {
            op();
        }
        n += 16;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

pub fn run() -> Value {
    use mfa_shared::methods::totp;
    let secret = mfa_shared::crypto::random_bytes::<20>();
    let now = mfa_local::now();
    let code = totp::code_at(&secret, now);
    let totp_rate = per_second(|| assert!(totp::matching_step(&secret, &code, now).is_some()));

    let signer = mfa_shared::auth::TokenSigner::from_spec(
        &std::env::var("MFA_TOKEN_SIGNING_KEY").expect("the stack's keys"),
        "mfa-service",
    )
    .expect("a signing key");
    let claims = mfa_shared::auth::FullAccessClaims {
        identity: mfa_shared::auth::IdentityClaims { sub: Some("bench".into()), ..Default::default() },
        iss: "mfa-service".into(),
        aud: mfa_shared::auth::FULL_ACCESS_AUDIENCE.into(),
        iat: now,
        exp: now + 900,
        aal: 2,
        amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
        auth_time: now,
        sid: "s".into(),
        jti: "bench".into(),
    };
    let sign_rate = per_second(|| {
        signer.sign(&claims).expect("signs");
    });

    let config = mfa_shared::config::RelyingPartyConfig {
        id: "localhost".into(),
        origin: "http://localhost:8080".into(),
        name: "MFA".into(),
    };
    let rp = mfa_shared::app::relying_party(&config).unwrap();
    let origin = Url::parse(&config.origin).unwrap();
    let mut key = SoftPasskey::new(true);
    let (options, state) = rp.start_passkey_registration(Uuid::from_bytes([7; 16]), "bench", "bench", None).unwrap();
    let credential = key.do_registration(origin.clone(), options).unwrap();
    let passkey = rp.finish_passkey_registration(&credential, &state).unwrap();
    let (options, state) = rp.start_passkey_authentication(&[passkey]).unwrap();
    let assertion = key.do_authentication(origin, options).unwrap();
    let assertion_rate = per_second(|| {
        rp.finish_passkey_authentication(&assertion, &state).expect("verifies");
    });

    // The same check in aws-lc, the library that signs and checks the service's tokens:
    // what a passkey's signature check would cost there (webauthn-rs offers no such backend).
    let aws_lc_verify_rate = {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).expect("a P-256 key");
        let message = b"authenticator data and the client data's hash";
        let signature = pair.sign(&rng, message).expect("signs");
        let public =
            aws_lc_rs::signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, pair.public_key().as_ref().to_vec());
        per_second(|| public.verify(message, signature.as_ref()).expect("verifies"))
    };

    let keyring =
        mfa_shared::crypto::Keyring::parse(&std::env::var("MFA_ENCRYPTION_KEYS").expect("the stack's keys")).unwrap();
    let sealed = keyring.seal(&secret, "bench/totp");
    let open_rate = per_second(|| {
        keyring.open(&sealed, "bench/totp").expect("opens");
    });

    let enroll_rate = per_second(|| {
        totp::enroll("MFA", "ada@example.com").expect("enrolls");
    });

    let rows = [
        ("authenticator enrollments (secret, otpauth URL, QR PNG)", enroll_rate),
        ("TOTP verifications (one code, ±1 step)", totp_rate),
        ("ES256 signatures (full-access tokens)", sign_rate),
        ("passkey assertion verifications (ES256)", assertion_rate),
        ("P-256 ECDSA checks in aws-lc (as built for the zips)", aws_lc_verify_rate),
        ("AES-256-GCM opens (authenticator secrets)", open_rate),
    ];
    for (what, rate) in rows {
        println!("{what:<58} {rate:>12.0} /s");
    }
    json!(rows.iter().map(|(what, rate)| json!({"what": what, "per_second": rate})).collect::<Vec<_>>())
}
